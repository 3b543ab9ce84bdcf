import { type Command, Option } from "commander";
import { KERNEL_FORMULAS, KERNEL_SOLVERS, SPLIT_MODES, type SplitMode } from "../../experiments/config.ts";
import type { ResultRecord } from "../../experiments/records.ts";
import { RUN_FT_DEFAULTS, type RunOnceOptions, runOnce } from "../../experiments/run-once.ts";
import { DEFAULT_DEVICE } from "../../model/runtime/providers.ts";
import { deviceOption, intArg, listArg, memoryArg, seedArg } from "../args.ts";
import { formatPercentMetrics } from "../format.ts";
import { addVariantOptions, methodSpecWithVariant, type VariantFlags, variantFromFlags } from "../variant-flags.ts";

const methodsArg = listArg((s) => s, "methods");

interface RunFlags extends VariantFlags, Omit<RunOnceOptions, "mode" | "signal" | "executor" | "log"> {
  mode: SplitMode;
  json?: boolean;
}

const pct = formatPercentMetrics;

function formatRecord(r: ResultRecord): string {
  const h = Object.entries(r.hyperparameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `${r.method} ${h}\n  dev   ${pct(r.dev)}\n  test  ${pct(r.test)}`;
}

/** `entk run`: one (task, k, seed) through split → kernel → solve and fine-tuning, as a one-off sweep. */
export function registerRun(program: Command): void {
  const command = program
    .command("run")
    .description(
      "one task, k and seed through split → kernel → solve (and fine-tuning): one job per method, run as a " +
        "one-off sweep (same job keys and results store as `entk sweep`; finished jobs are not recomputed)",
    )
    .requiredOption("--task <name>", "task name (case-insensitive, e.g. SST-2, GLUE-SST-2, MNLI)")
    .requiredOption("--k <n>", "examples per label", intArg(1))
    .requiredOption("--seed <n>", "split seed (also the fine-tuning seed)", seedArg)
    .requiredOption("--model <dir|repo-id>", "model directory or Hugging Face repo id")
    .option("--revision <rev>", "Hub revision (with a repo id)")
    .requiredOption(
      "--methods <list>",
      `comma-separated methods: kernel:<${KERNEL_FORMULAS.join("|")}>:<${KERNEL_SOLVERS.join("|")}>[:key=value]... ` +
        `and ft:<sgd|signgd|adam>[:lr=X][:bs=N][:steps=N][:evalEvery=N]... (missing lr, bs, steps: ${RUN_FT_DEFAULTS.lr.toExponential()}, ` +
        `${RUN_FT_DEFAULTS.batchSize}, ${RUN_FT_DEFAULTS.steps}, as \`entk finetune\`; ft-lin:<…> takes the same keys and trains the linearized model), e.g. ` +
        "kernel:sgd:lstsq,kernel:signgd:logistic:reg=0.01,ft:adam:lr=1e-5:bs=8:steps=1000",
      methodsArg,
    )
    .option(
      "--data-dir <dir>",
      "LM-BFF original/ folder; existing splits in <dir>/<mode>/<task>/<k>-<seed> or <dir>/../<mode>/… are used as is",
      "data/original",
    )
    .addOption(new Option("--mode <mode>", "k-shot split mode").choices([...SPLIT_MODES]).default("k-shot-1k-test"))
    .option(
      "--limit-eval <n>",
      "use a seeded subsample of n dev and n test examples, the same for every seed (default: all)",
      intArg(1),
    )
    .option("--memory <size>", "memory budget, e.g. 8GB (default: half the RAM)", memoryArg)
    .addOption(deviceOption(DEFAULT_DEVICE))
    .option("--out <dir>", "results store (records/, results.jsonl, jobs/, cache/)", "runs/entk-run")
    .option("--json", "print the result records as JSON Lines")
    .option("--skip-bad-rows", "skip malformed data rows with a warning instead of failing")
    .option("--quiet", "no progress output (job log lines)");
  addVariantOptions(command).action(async (o: RunFlags, cmd: Command) => {
    const variant = variantFromFlags(cmd, o);
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once("SIGINT", stop);
    try {
      const { summary, records } = await runOnce({
        task: o.task,
        k: o.k,
        seed: o.seed,
        model: o.model,
        revision: o.revision,
        methods: o.methods.map((m) => methodSpecWithVariant(m, variant)),
        dataDir: o.dataDir,
        mode: o.mode,
        limitEval: o.limitEval,
        memory: o.memory,
        device: o.device,
        out: o.out,
        signal: ac.signal,
        quiet: o.quiet,
        skipBadRows: o.skipBadRows,
        log: o.quiet ? () => {} : undefined,
      });
      process.stderr.write(
        `run: ${summary.ran} jobs ran, ${summary.alreadyDone} were already done, ${summary.failed.length} failed; results in ${summary.outDir}\n`,
      );
      process.stdout.write(
        records.map((r) => (o.json ? JSON.stringify(r) : formatRecord(r))).join("\n") + (records.length ? "\n" : ""),
      );
      if (summary.interrupted) throw new Error("run interrupted; rerun the same command to resume");
      if (summary.failed.length > 0)
        throw new Error(
          `${summary.failed.map((f) => `${f.method}: ${f.error}`).join("; ")} (details in ${summary.outDir}/failed/)`,
        );
    } finally {
      process.off("SIGINT", stop);
    }
  });
}
