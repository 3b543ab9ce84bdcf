/**
 * >>> THE ONE PLACE WHERE SWEEPS MEET THE COMPUTE LAYERS. <<<
 *
 * The sweep machinery (config, expansion, sharding, store, runner) is complete; the executors below are the
 * seam to the kernels/solvers (`kernel:<formula>:<solver>`) and fine-tuning (`ft:<optimizer>`) layers. Until
 * they are wired, they throw "not wired yet". To wire one, replace its body: build the k-shot split of
 * (job.task, job.k, job.seed) from job.data under ctx.workDir, run the layer with ctx.cacheDir as the shared
 * gradient/kernel cache and job.limits.limitEval, and return one `ctx.record({...})` per grid point
 * (`gridPoints(job.grid)`, merged hyperparameters, dev and test metrics in [0, 1], the weights hash).
 */
import { type Executor, type ExecutorRegistry, sleepExecutor } from "./executor.ts";

export const kernelExecutor: Executor = async (job) => {
  throw new Error(`method "${job.method}": kernel executor not wired yet (src/experiments/wiring.ts)`);
};

export const ftExecutor: Executor = async (job) => {
  throw new Error(`method "${job.method}": fine-tuning executor not wired yet (src/experiments/wiring.ts)`);
};

/** The executors `entk sweep` uses, by method kind. */
export const defaultExecutors: ExecutorRegistry = {
  kernel: kernelExecutor,
  ft: ftExecutor,
  sleep: sleepExecutor,
};
