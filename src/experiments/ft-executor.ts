import { join } from "node:path";
import { readDatasetVariant } from "../data/dataset-variant.ts";
import { runFinetune } from "../pipelines/finetune.ts";
import { engineModelFactory } from "../training/engine-model.ts";
import { OPTIMIZER_KINDS, type OptimizerKind } from "../training/optimizers.ts";
import type { FinetuneModelFactory } from "../training/types.ts";
import type { Executor } from "./executor.ts";
import type { HyperValue } from "./jobs.ts";
import { jobSplit } from "./splits.ts";
import { variantOfHyper } from "./variant-hyper.ts";

/** `ft:<optimizer>` → the optimizer, validated. */
export function parseFtMethod(method: string): OptimizerKind {
  const [kind, opt, ...rest] = method.split(":");
  if (kind !== "ft" || rest.length > 0 || !OPTIMIZER_KINDS.includes(opt as OptimizerKind))
    throw new Error(`method "${method}": expected ft:<${OPTIMIZER_KINDS.join("|")}>`);
  return opt as OptimizerKind;
}

function num(h: Record<string, HyperValue>, name: string, method: string): number {
  const v = h[name];
  if (typeof v !== "number") throw new Error(`method "${method}": hyperparameter ${name} must be a number, got ${v}`);
  return v;
}

/**
 * Fine-tuning job (`ft:<optimizer>`): the k-shot split as for kernels, then `runFinetune` in ctx.workDir/ft with
 * the job's seed as training seed (as LM-BFF does) (`limitEval`: on jobSplit's seeded dev/test subsample); one record with the
 * best-dev checkpoint's dev and test metrics. An interrupted job resumes from its snapshot in ctx.workDir.
 * `createModel` defaults to the engine's trainable model on ctx.device.
 */
export function ftExecutor(createModel?: FinetuneModelFactory): Executor {
  return async (job, ctx) => {
    const optimizer = parseFtMethod(job.method);
    const h = job.hyperparameters;
    const { task, splitDir } = await jobSplit(job, ctx);
    ctx.log(`${job.task} k=${job.k} seed=${job.seed} ${job.method}: fine-tuning on ${splitDir}`);
    const evalEvery = h.evalEvery === "epoch" ? "epoch" : num(h, "evalEvery", job.method);
    const r = await runFinetune({
      task,
      splitDir,
      model: job.model.id,
      loadOptions: job.model.revision ? { revision: job.model.revision } : undefined,
      createModel: createModel ?? engineModelFactory({ device: ctx.device }),
      optimizer,
      lr: num(h, "lr", job.method),
      batchSize: num(h, "batchSize", job.method),
      steps: num(h, "steps", job.method),
      evalEvery,
      warmupSteps: num(h, "warmupSteps", job.method),
      weightDecay: num(h, "weightDecay", job.method),
      maxGradNorm: num(h, "maxGradNorm", job.method),
      seed: job.seed,
      variant: variantOfHyper(h),
      outDir: join(ctx.workDir, "ft"),
      signal: ctx.signal,
      skipBadRows: ctx.skipBadRows,
      onSkip: ctx.log,
      quiet: true,
    });
    if (!r.test) throw new Error(`${join(ctx.workDir, "ft")}: fine-tuning returned no test metrics`);
    if (typeof r.weightsHash !== "string")
      throw new Error(`${join(ctx.workDir, "ft")}: the result has no weights hash`);
    return [
      ctx.record({
        metric: task.metric,
        dev: r.dev,
        test: r.test,
        weightsHash: r.weightsHash,
        dataset: readDatasetVariant(splitDir),
      }),
    ];
  };
}
