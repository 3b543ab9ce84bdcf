import { type Command, Option } from "commander";
import { resultPaths, type SolveOptions, type SplitMetrics, solveKernelDir } from "../../solvers/solve.ts";
import { SOLVER_NAMES, type SolverName } from "../../solvers/types.ts";
import { listArg, numberArg, usageError } from "../args.ts";

const number = numberArg();
const numberList = listArg(number, "numbers (e.g. 0,1e-6,1e-4)");

const fmt = (m: SplitMetrics | undefined, name: string) =>
  m ? `${name} ${m.metric} ${m.score.toFixed(4)}${m.metric === "f1" ? ` (acc ${m.acc.toFixed(4)})` : ""}` : undefined;

interface SolveFlags {
  kernels: string;
  formula: string;
  solver: SolverName;
  reg?: number;
  regGrid?: number[];
  selectOn?: "dev";
  gamma?: number[];
  lambda?: number[];
  adjustForInit?: boolean;
  f0Scaling?: number;
  json?: boolean;
}

export function registerSolve(program: Command): void {
  program
    .command("solve")
    .description("fit a kernel solver on a kernel directory written by `entk kernel`; writes dev/test metrics")
    .requiredOption("--kernels <dir>", "kernel directory (meta.json, kernel.<formula>.<split>.npy, labels, logits)")
    .requiredOption("--formula <name>", "kernel formula: sgd, signgd or asymmetric_signgd")
    .addOption(new Option("--solver <name>", "solver").choices([...SOLVER_NAMES]).makeOptionMandatory())
    .option("--reg <r>", "regularization r: K + r·σ_max(K)·I (default: 0)", number)
    .option("--reg-grid <list>", "comma-separated r values, chosen with --select-on dev", numberList)
    .addOption(new Option("--select-on <split>", "split that picks the grid value").choices(["dev"]))
    .option("--gamma <g>", "asym: γ of the 2N system; a list is a grid (default: 1)", numberList)
    .option("--lambda <l>", "asym: prediction λ·ω + (1 − λ)·ν; a list is a grid (default: 0.5)", numberList)
    .option("--adjust-for-init", "fit y − f0/s and add f0/s back (lstsq, asym, svr)")
    .option("--f0-scaling <s>", "s for --adjust-for-init; s ≤ 0 ignores f0 (default: 1)", number)
    .option("--json", "print the result record as JSON")
    .action(async (flags: SolveFlags, cmd: Command) => {
      const usage = (msg: string) => usageError(cmd, msg);
      if (flags.reg !== undefined && flags.regGrid) usage("--reg and --reg-grid are mutually exclusive");
      const points = (flags.regGrid?.length ?? 1) * (flags.gamma?.length ?? 1) * (flags.lambda?.length ?? 1);
      if (points > 1 && flags.selectOn !== "dev")
        usage("several --reg-grid, --gamma or --lambda values need --select-on dev");
      if (flags.f0Scaling !== undefined && !flags.adjustForInit) usage("--f0-scaling needs --adjust-for-init");
      if ((flags.gamma !== undefined || flags.lambda !== undefined) && flags.solver !== "asym")
        usage("--gamma and --lambda apply to --solver asym only");
      const opts: SolveOptions = {
        formula: flags.formula,
        solver: flags.solver,
        regGrid: flags.regGrid ?? [flags.reg ?? 0],
        selectOn: flags.selectOn,
        gammaGrid: flags.gamma,
        lambdaGrid: flags.lambda,
        adjustForInit: flags.adjustForInit === true,
        f0Scaling: flags.f0Scaling,
      };
      const { result } = await solveKernelDir(flags.kernels, opts);
      for (const w of result.warnings) process.stderr.write(`entk: warning: ${w}\n`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const parts = [fmt(result.dev, "dev"), fmt(result.test, "test")].filter(Boolean);
      const h = result.hyperparameters;
      const asym = h.gamma !== undefined ? `, gamma ${h.gamma}, lambda ${h.lambda}` : "";
      const hp = `reg ${h.reg}${asym}${result.selected_on ? " (selected on dev)" : ""}`;
      process.stdout.write(
        `${result.formula} ${result.solver}: ${parts.join(", ") || "no dev/test kernels"}; ${hp}; ` +
          `${result.timing.total_s.toFixed(2)} s → ${resultPaths(flags.kernels, flags.formula, flags.solver).json}\n`,
      );
    });
}
