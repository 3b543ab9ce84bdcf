import { join } from "node:path";
import { readDatasetVariant } from "../data/dataset-variant.ts";
import { metricRecord } from "../data/metrics.ts";
import type { ClassicFormula } from "../kernels/classic.ts";
import type { Formula } from "../kernels/types.ts";
import { runKernelJob } from "../pipelines/kernel-job.ts";
import type { SplitMetrics } from "../solvers/solve.ts";
import { solveKernelDir } from "../solvers/solve.ts";
import { SOLVER_NAMES, type SolverName } from "../solvers/types.ts";
import { KERNEL_FORMULAS } from "./config.ts";
import type { Executor } from "./executor.ts";
import { gridPoints } from "./jobs.ts";
import { jobSplit } from "./splits.ts";
import { variantOfHyper } from "./variant-hyper.ts";

/** `kernel:<formula>:<solver>` → its two parts, validated; the formula is an eNTK's or a classic kernel's. */
export function parseKernelMethod(method: string): { formula: Formula | ClassicFormula; solver: SolverName } {
  const [kind, formula, solver, ...rest] = method.split(":");
  if (kind !== "kernel" || rest.length > 0 || !(KERNEL_FORMULAS as readonly string[]).includes(formula))
    throw new Error(`method "${method}": expected kernel:<${KERNEL_FORMULAS.join("|")}>:<solver>`);
  if (!SOLVER_NAMES.includes(solver as SolverName))
    throw new Error(`method "${method}": unknown solver "${solver}" (expected one of ${SOLVER_NAMES.join(", ")})`);
  return { formula: formula as Formula | ClassicFormula, solver: solver as SolverName };
}

/** acc (and f1 when the task reports it) of one split: the numbers a result record carries, all in [0, 1]. */
export function recordMetrics(m: SplitMetrics | undefined, where: string): Record<string, number> {
  if (!m) throw new Error(`${where}: the solver returned no metrics`);
  return metricRecord(m);
}

const boolOpt = (v: unknown) => v === true;

/**
 * Kernel regression job: the k-shot split (existing or generated into the group's cache; with `limitEval`, its
 * seeded dev/test subsample, see jobSplit), the eNTK of one formula (or a classic kernel on the frozen features
 * with its default hyperparameters, docs/analyses.md §5) over train×{train, dev, test} with `runKernelJob` (kernel
 * blocks, and with cacheFactors gradient factors, cached in ctx.kernelCacheDir, so the test set is differentiated
 * once per task and model), then the solver on every point of the job's grid (`solveKernelDir`, which also writes
 * results/ next to the kernels): one record per grid point.
 */
export const kernelExecutor: Executor = async (job, ctx) => {
  const { formula, solver } = parseKernelMethod(job.method);
  const h = job.hyperparameters;
  const { splitDir } = await jobSplit(job, ctx);
  const kernelDir = join(ctx.workDir, "kernels");
  const filter = {
    excludeEmbeddings: boolOpt(h.excludeEmbeddings),
    excludeHead: boolOpt(h.excludeHead),
    onlyBiases: boolOpt(h.onlyBiases),
  };
  ctx.log(`${job.task} k=${job.k} seed=${job.seed} ${job.method}: kernel on ${splitDir}`);
  const meta = await runKernelJob({
    model: job.model.id,
    revision: job.model.revision,
    task: job.task,
    splitDir,
    formulas: [formula],
    binary: boolOpt(h.binary),
    filter,
    out: kernelDir,
    memoryBytes: ctx.memoryBytes,
    device: ctx.device,
    cacheDir: ctx.kernelCacheDir ?? join(ctx.cacheDir, "kernels"),
    cacheFactors: ctx.cacheFactors ?? false,
    quiet: true,
    signal: ctx.signal,
    skipBadRows: ctx.skipBadRows,
    onSkip: ctx.log,
    jobKey: job.key,
    variant: variantOfHyper(h),
    loraSeed: job.seed,
  });
  ctx.signal.throwIfAborted();
  const dataset = readDatasetVariant(splitDir);
  const points = gridPoints(job.grid);
  const { result } = await solveKernelDir(kernelDir, {
    formula,
    solver,
    regGrid: job.grid.reg ?? [0],
    gammaGrid: job.grid.gamma,
    lambdaGrid: job.grid.lambda,
    selectOn: points.length > 1 ? "dev" : undefined,
    adjustForInit: boolOpt(h.adjustForInit),
    f0Scaling: typeof h.f0Scaling === "number" ? h.f0Scaling : undefined,
  });
  for (const w of result.warnings) ctx.log(`${job.task} k=${job.k} seed=${job.seed} ${job.method}: ${w}`);
  return points.map((point) => {
    const entry = result.grid.find((e) =>
      Object.entries(point).every(([name, v]) => (e as unknown as Record<string, number>)[name] === v),
    );
    if (!entry) throw new Error(`${kernelDir}: the solver has no result for grid point ${JSON.stringify(point)}`);
    const where = `${kernelDir} ${JSON.stringify(point)}`;
    return ctx.record({
      hyperparameters: point,
      metric: result.metric,
      dev: recordMetrics(entry.metrics.dev, `${where} dev`),
      test: recordMetrics(entry.metrics.test, `${where} test`),
      weightsHash: meta.model.weights_hash,
      dataset,
    });
  });
};
