import { type Command, Option } from "commander";
import { DEFAULT_ALPHAS, type EvalSplit, type LinearizeSummary, linearize } from "../../analyses/linearize.ts";
import {
  addTaskOverrideOptions,
  choiceListArg,
  intArg,
  listArg,
  numberArg,
  type TaskOverrideFlags,
  taskWithOverrides,
} from "../args.ts";

interface LinearizeCliOpts extends TaskOverrideFlags {
  model: string;
  checkpoint: string;
  task: string;
  splitDir: string;
  evalSplits: EvalSplit[];
  alpha: number[];
  limitEval?: number;
  threads?: number;
  offline?: boolean;
  out: string;
  json?: boolean;
  quiet?: boolean;
}

const pct = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${(100 * v).toFixed(1)}`)
    .join(" ");

export function formatLinearizeSummary(s: LinearizeSummary): string {
  const lines = [`post-hoc linearization of ${s.checkpoint} around ${s.model} (‖τ‖ = ${s.tauNorm.toPrecision(4)})`];
  for (const [split, r] of Object.entries(s.splits)) {
    lines.push(`  ${split} (n = ${r.n}): f(θ₀) ${pct(r.base)}`);
    for (const a of r.alphas)
      lines.push(
        `    α = ${a.alpha}: f ${pct(a.model)} | f_lin ${pct(a.linearized)} | agreement ${(100 * a.agreement).toFixed(1)}%` +
          (a.relDistance === null ? "" : ` | ‖f − f_lin‖/‖f − f₀‖ ${a.relDistance.toPrecision(3)}`),
      );
  }
  return lines.join("\n");
}

/** `entk linearize`: f(θ₀ + ατ) against f_lin(θ₀ + ατ) = f₀ + α J τ for a fine-tuned checkpoint (docs/linearization.md). */
export function registerLinearize(program: Command): void {
  const command = program
    .command("linearize")
    .description(
      "post-hoc linearization: with τ = θ_CKPT − θ₀, writes f(θ₀), f(θ₀ + ατ) and f_lin(θ₀ + ατ) = f(θ₀) + α J τ " +
        "(.npy, [n, C]) per eval split and α, and OUT/summary.json (task metric of each, their prediction " +
        "agreement, ‖f − f_lin‖/‖f − f₀‖)",
    )
    .requiredOption("--model <dir|repo-id>", "base model θ₀")
    .requiredOption("--checkpoint <dir>", "fine-tuned checkpoint θ₀ + τ (e.g. FT_DIR/best)")
    .requiredOption("--task <name|file>", "task name or task .json file")
    .requiredOption("--split-dir <dir>", "k-shot split directory (train/dev/test files)")
    .addOption(
      new Option("--eval-splits <list>", "comma list of train, dev, test")
        .argParser(choiceListArg(["train", "dev", "test"] as const, "split"))
        .default(["dev", "test"], "dev,test"),
    )
    .addOption(
      new Option("--alpha <list>", "comma list of α (the path θ₀ + ατ)")
        .argParser(listArg(numberArg(), "numbers"))
        .default(DEFAULT_ALPHAS, DEFAULT_ALPHAS.join(",")),
    )
    .option("--limit-eval <n>", "a seeded subsample of n examples of each eval split (default: all)", intArg(1))
    .option("--threads <n>", "onnxruntime intra-op threads", intArg(1))
    .option("--offline", "use the Hugging Face cache only (also HF_HUB_OFFLINE=1)")
    .requiredOption("--out <dir>", "output directory");
  addTaskOverrideOptions(command)
    .option("--json", "print the summary as JSON")
    .option("--quiet", "no progress bar")
    .action(async (o: LinearizeCliOpts, cmd: Command) => {
      const s = await linearize({
        model: o.model,
        checkpoint: o.checkpoint,
        task: taskWithOverrides(cmd, o.task, o),
        splitDir: o.splitDir,
        evalSplits: o.evalSplits,
        alphas: o.alpha,
        limitEval: o.limitEval,
        threads: o.threads,
        loadOptions: o.offline ? { offline: true } : undefined,
        out: o.out,
        quiet: o.quiet,
      });
      process.stdout.write(`${o.json ? JSON.stringify(s) : formatLinearizeSummary(s)}\n`);
    });
}
