import { join } from "node:path";
import { linearize } from "../analyses/linearize.ts";
import { readDatasetVariant } from "../data/dataset-variant.ts";
import { runFinetune } from "../pipelines/finetune.ts";
import { engineModelFactory } from "../training/engine-model.ts";
import { linearizedModelFactory } from "../training/linearized.ts";
import { OPTIMIZER_KINDS, type OptimizerKind } from "../training/optimizers.ts";
import type { FinetuneModelFactory } from "../training/types.ts";
import type { Executor } from "./executor.ts";
import type { HyperValue } from "./jobs.ts";
import { jobSplit } from "./splits.ts";
import { variantOfHyper } from "./variant-hyper.ts";

/** `ft:<optimizer>` or `ft-lin:<optimizer>` → the optimizer, validated. */
export function parseFtMethod(method: string): OptimizerKind {
  const [kind, opt, ...rest] = method.split(":");
  if ((kind !== "ft" && kind !== "ft-lin") || rest.length > 0 || !OPTIMIZER_KINDS.includes(opt as OptimizerKind))
    throw new Error(`method "${method}": expected ft:<${OPTIMIZER_KINDS.join("|")}> or ft-lin:<…>`);
  return opt as OptimizerKind;
}

function num(h: Record<string, HyperValue>, name: string, method: string): number {
  const v = h[name];
  if (typeof v !== "number") throw new Error(`method "${method}": hyperparameter ${name} must be a number, got ${v}`);
  return v;
}

/**
 * Fine-tuning job (`ft:<optimizer>`): the k-shot split as for kernels, then `runFinetune` in ctx.workDir/ft with
 * the job's seed as training seed (as LM-BFF does) (`limitEval`: on jobSplit's seeded dev/test subsample); one
 * record with the best-dev checkpoint's dev and test metrics. An interrupted job resumes from its snapshot in ctx.workDir.
 * `createModel` defaults to the engine's trainable model on ctx.device (`ft-lin:`: the linearized model).
 *
 * A prompt-MLM `ft:` job also writes a `posthoc-lin:<optimizer>` record: the dev and test metrics of the
 * linearization f₀ + J·τ of its best checkpoint (τ = θ_best − θ₀; `linearize` at α = 1, docs/linearization.md),
 * so the report puts "is fine-tuning in the kernel regime?" next to the fine-tuning row.
 */
export function ftExecutor(createModel?: FinetuneModelFactory): Executor {
  return async (job, ctx) => {
    const optimizer = parseFtMethod(job.method);
    const linearized = job.method.startsWith("ft-lin:");
    const h = job.hyperparameters;
    const { task, splitDir } = await jobSplit(job, ctx);
    ctx.log(`${job.task} k=${job.k} seed=${job.seed} ${job.method}: fine-tuning on ${splitDir}`);
    const variant = variantOfHyper(h);
    const evalEvery = h.evalEvery === "epoch" ? "epoch" : num(h, "evalEvery", job.method);
    const r = await runFinetune({
      task,
      splitDir,
      model: job.model.id,
      loadOptions: job.model.revision ? { revision: job.model.revision } : undefined,
      createModel: createModel ?? (linearized ? linearizedModelFactory : engineModelFactory)({ device: ctx.device }),
      linearized,
      optimizer,
      lr: num(h, "lr", job.method),
      batchSize: num(h, "batchSize", job.method),
      steps: num(h, "steps", job.method),
      evalEvery,
      warmupSteps: num(h, "warmupSteps", job.method),
      weightDecay: num(h, "weightDecay", job.method),
      maxGradNorm: num(h, "maxGradNorm", job.method),
      seed: job.seed,
      variant,
      outDir: join(ctx.workDir, "ft"),
      signal: ctx.signal,
      skipBadRows: ctx.skipBadRows,
      onSkip: ctx.log,
      quiet: true,
    });
    if (!r.test) throw new Error(`${join(ctx.workDir, "ft")}: fine-tuning returned no test metrics`);
    if (typeof r.weightsHash !== "string")
      throw new Error(`${join(ctx.workDir, "ft")}: the result has no weights hash`);
    const dataset = readDatasetVariant(splitDir);
    const ft = ctx.record({ metric: task.metric, dev: r.dev, test: r.test, weightsHash: r.weightsHash, dataset });
    if (linearized || variant.noPrompt || variant.lora) return [ft];
    ctx.log(`${job.task} k=${job.k} seed=${job.seed} ${job.method}: post-hoc linearization of the best checkpoint`);
    const lin = await linearize({
      model: job.model.id,
      loadOptions: job.model.revision ? { revision: job.model.revision } : undefined,
      checkpoint: r.checkpointDir,
      task,
      splitDir,
      alphas: [1],
      out: join(ctx.workDir, "posthoc-lin"),
      quiet: true,
      skipBadRows: ctx.skipBadRows,
      onSkip: ctx.log,
    });
    const at1 = (s: "dev" | "test") => lin.splits[s]!.alphas[0].linearized;
    const posthoc = ctx.record({
      method: `posthoc-lin:${optimizer}`,
      metric: task.metric,
      dev: at1("dev"),
      test: at1("test"),
      weightsHash: r.weightsHash,
      dataset,
    });
    return [ft, posthoc];
  };
}
