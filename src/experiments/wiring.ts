/**
 * >>> THE ONE PLACE WHERE SWEEPS MEET THE COMPUTE LAYERS. <<<
 *
 * The sweep machinery (config, expansion, sharding, store, runner) calls these executors by method kind:
 * `kernel:<formula>:<solver>` (kernel-executor.ts: split → runKernelJob → solvers, one record per grid point) and
 * `ft:<optimizer>` (ft-executor.ts: split → runFinetune, one record plus its `posthoc-lin:<optimizer>` record) and
 * `ft-lin:<optimizer>` (the same on the linearized model).
 */
import { probeExecutor, zeroShotExecutor } from "./baseline-executor.ts";
import type { Executor, ExecutorRegistry } from "./executor.ts";
import { ftExecutor } from "./ft-executor.ts";
import { kernelExecutor } from "./kernel-executor.ts";

export { kernelExecutor };

/** Fine-tuning on the engine's trainable model. */
export const engineFtExecutor: Executor = ftExecutor();

/** The executors `entk sweep` and `entk run` use, by method kind (and those of method modules: method-modules.ts). */
export const defaultExecutors: ExecutorRegistry = {
  kernel: kernelExecutor,
  ft: engineFtExecutor,
  "ft-lin": engineFtExecutor,
  "zero-shot": zeroShotExecutor,
  probe: probeExecutor,
};
