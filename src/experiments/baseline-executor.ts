import { runProbe, runZeroShot } from "../pipelines/baselines.ts";
import type { Executor } from "./executor.ts";
import { jobSplit } from "./splits.ts";

/** `zero-shot`: the prompt MLM at θ₀ on the job's split (and its limitEval subsample); one record. */
export const zeroShotExecutor: Executor = async (job, ctx) => {
  const { task, splitDir } = await jobSplit(job, ctx);
  ctx.log(`${job.task} k=${job.k} seed=${job.seed} zero-shot on ${splitDir}`);
  const r = await runZeroShot({ model: job.model.id, revision: job.model.revision, task, splitDir });
  return [ctx.record({ dev: r.dev, test: r.test, weightsHash: r.weightsHash })];
};

/** `probe` (`noPrompt`: on h_<s>): the linear probe fitted on the job's training split; one record. */
export const probeExecutor: Executor = async (job, ctx) => {
  const { task, splitDir } = await jobSplit(job, ctx);
  ctx.log(`${job.task} k=${job.k} seed=${job.seed} probe on ${splitDir}`);
  const r = await runProbe({
    model: job.model.id,
    revision: job.model.revision,
    task,
    splitDir,
    noPrompt: job.hyperparameters.noPrompt === true,
  });
  for (const w of r.probe?.warnings ?? []) ctx.log(`${job.task} k=${job.k} seed=${job.seed} probe: ${w}`);
  return [ctx.record({ dev: r.dev, test: r.test, weightsHash: r.weightsHash })];
};
