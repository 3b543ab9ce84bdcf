import { type Command, Option } from "commander";
import type { Device } from "../../model/runtime/providers.ts";
import { runFinetune } from "../../pipelines/finetune.ts";
import { FINETUNE_DEFAULTS as D } from "../../training/defaults.ts";
import { engineModelFactory } from "../../training/engine-model.ts";
import { linearizedModelFactory } from "../../training/linearized.ts";
import { OPTIMIZER_KINDS } from "../../training/optimizers.ts";
import type { FinetuneHyperparams, FinetuneResult } from "../../training/trainer.ts";
import type { FinetuneModelFactory } from "../../training/types.ts";
import {
  addTaskOverrideOptions,
  deviceOption,
  intArg,
  numberArg,
  seedArg,
  type TaskOverrideFlags,
  taskWithOverrides,
} from "../args.ts";
import { formatPercentMetrics } from "../format.ts";
import { addVariantOptions, type VariantFlags, variantFromFlags } from "../variant-flags.ts";

const positiveInt = intArg(1);
const nonNegInt = intArg(0);
const nonNegNumber = numberArg(0);

function evalEveryArg(v: string): number | "epoch" {
  return v === "epoch" ? "epoch" : positiveInt(v);
}

interface FinetuneCliOpts extends TaskOverrideFlags, VariantFlags, Omit<FinetuneHyperparams, "metric"> {
  task: string;
  splitDir: string;
  model: string;
  evalBatchSize: number;
  device: Device;
  snapshotEvery?: number;
  limitTest?: number;
  skipBadRows?: boolean;
  linearized?: boolean;
  dropout: boolean;
  logLogitsEvery?: number;
  out: string;
  fresh?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const fmt = formatPercentMetrics;

export function formatFinetuneResult(r: FinetuneResult): string {
  return [
    `${r.method} lr ${r.lr} bs ${r.batchSize} steps ${r.steps}: best step ${r.bestStep}`,
    `  dev   ${fmt(r.dev)}`,
    `  test  ${fmt(r.test)}`,
    `  checkpoint ${r.checkpointDir}`,
    `  curve      ${r.curvePath}`,
  ].join("\n");
}

/**
 * `entk finetune`: prompt-based fine-tuning baseline (docs/protocol.md §7.1). `createModel` builds the trainable model
 * (default: the engine's on --device; tests may pass their own).
 */
export function registerFinetune(program: Command, createModel?: FinetuneModelFactory): void {
  const command = program
    .command("finetune")
    .description(
      "prompt-based fine-tuning (SGD, SignGD or AdamW) with dev-based checkpoint selection; writes OUT/best " +
        "(Hugging Face layout), OUT/curve.jsonl, OUT/result.json; an interrupted run resumes from OUT/state.snap",
    )
    .requiredOption(
      "--task <name|file>",
      "task name (case-insensitive, e.g. SST-2, GLUE-SST-2, MNLI) or task .json file",
    )
    .requiredOption("--split-dir <dir>", "k-shot split directory with the task's train/dev/test files")
    .requiredOption("--model <dir|repo-id>", "model directory or Hugging Face repo id")
    .requiredOption("--out <dir>", "output directory")
    .addOption(new Option("--optimizer <name>", "optimizer").choices(OPTIMIZER_KINDS).default(D.optimizer))
    .addOption(new Option("--lr <x>", "peak learning rate").argParser(nonNegNumber).default(D.lr))
    .addOption(new Option("--batch-size <n>", "training batch size").argParser(positiveInt).default(D.batchSize))
    .addOption(new Option("--steps <n>", "optimizer steps").argParser(positiveInt).default(D.steps))
    .addOption(
      new Option("--eval-every <n|epoch>", "evaluate dev every n steps, or at each epoch end (the reference)")
        .argParser(evalEveryArg)
        .default(D.evalEvery),
    )
    .addOption(new Option("--warmup-steps <n>", "linear warmup steps").argParser(nonNegInt).default(D.warmupSteps))
    .addOption(
      new Option("--weight-decay <x>", "weight decay (not on biases and LayerNorm weights)")
        .argParser(nonNegNumber)
        .default(D.weightDecay),
    )
    .addOption(
      new Option("--max-grad-norm <x>", "global gradient-norm clipping; 0 disables")
        .argParser(nonNegNumber)
        .default(D.maxGradNorm),
    )
    .addOption(
      new Option("--seed <n>", "seed of the shuffling and dropout generators").argParser(seedArg).default(D.seed),
    )
    .addOption(deviceOption())
    .addOption(
      new Option("--eval-batch-size <n>", "evaluation batch size").argParser(positiveInt).default(D.evalBatchSize),
    )
    .addOption(
      new Option(
        "--snapshot-every <n>",
        "resume snapshot every n steps (default: after each dev evaluation)",
      ).argParser(positiveInt),
    )
    .addOption(
      new Option(
        "--limit-test <n>",
        "evaluate a seeded subsample of n test examples, the same for every seed (default: all)",
      ).argParser(positiveInt),
    );
  addTaskOverrideOptions(addVariantOptions(command))
    .option("--skip-bad-rows", "skip malformed data rows with a warning instead of failing")
    .option("--linearized", "train the linearization f(θ₀) + J·(θ − θ₀) around the model (docs/linearization.md)")
    .option("--no-dropout", "train without dropout (eval-mode steps, as the kernel regime assumes)")
    .addOption(
      new Option(
        "--log-logits-every <n>",
        "write eval-mode logits of train/dev/test to OUT/logits/step-<t>.<split>.npy at step 0 and every n steps",
      ).argParser(positiveInt),
    )
    .option("--fresh", "start over, discarding a snapshot or finished result in OUT")
    .option("--json", "print the result record as JSON")
    .option("--quiet", "no progress bar")
    .action(async (o: FinetuneCliOpts, cmd: Command) => {
      const task = taskWithOverrides(cmd, o.task, o);
      // Ctrl-C / SIGTERM: finish the current step, snapshot it, exit with an error (rerun the command to resume).
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const r = await runFinetune({
        variant: variantFromFlags(cmd, o),
        signal: ac.signal,
        task,
        splitDir: o.splitDir,
        model: o.model,
        createModel:
          createModel ??
          (o.linearized
            ? linearizedModelFactory({ device: o.device })
            : engineModelFactory({ device: o.device, dropout: o.dropout })),
        linearized: o.linearized,
        logLogitsEvery: o.logLogitsEvery,
        ...(o.dropout === false && !o.linearized ? { record: { dropout: false } } : {}),
        optimizer: o.optimizer,
        lr: o.lr,
        batchSize: o.batchSize,
        steps: o.steps,
        evalEvery: o.evalEvery,
        warmupSteps: o.warmupSteps,
        weightDecay: o.weightDecay,
        maxGradNorm: o.maxGradNorm,
        seed: o.seed,
        evalBatchSize: o.evalBatchSize,
        snapshotEvery: o.snapshotEvery,
        limitTest: o.limitTest,
        skipBadRows: o.skipBadRows,
        onSkip: (m) => process.stderr.write(`entk: warning: ${m}\n`),
        outDir: o.out,
        fresh: o.fresh,
        quiet: o.quiet,
      })
        .catch((err) => {
          if ((err as { code?: string }).code === "ENTK_CORRUPT_SNAPSHOT") err.message += " (--fresh)";
          throw err;
        })
        .finally(() => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
        });
      process.stdout.write(`${o.json ? JSON.stringify(r) : formatFinetuneResult(r)}\n`);
    });
}
