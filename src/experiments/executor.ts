import type { DatasetVariant } from "../data/dataset-variant.ts";
import type { MetricName } from "../data/metrics.ts";
import type { Device } from "../model/runtime/providers.ts";
import { type HyperValue, type Job, methodKind } from "./jobs.ts";
import { methodModule } from "./method-modules.ts";
import type { ResultRecord } from "./records.ts";

/** What a job gets from the runner besides its spec. */
export interface JobContext {
  /** This job's private scratch directory (`OUT/jobs/<key>`): splits, kernels, checkpoints. */
  workDir: string;
  /**
   * Shared by every job of the same (task, model) group (`OUT/cache/<group>`), so the test set's gradients are
   * computed once and reused by every k and seed. Writers must be content-addressed and atomic (the kernels
   * layer's cache is): shards on other machines may share it.
   */
  cacheDir: string;
  /**
   * The kernel cache root shared by every group (`OUT/cache/kernels`; one folder per task and model inside, see
   * src/kernels/cache-admin.ts), so its budget and least-recently-used eviction span tasks. Default:
   * `<cacheDir>/kernels`.
   */
  kernelCacheDir?: string;
  /** Kernel jobs also cache gradient factors in the kernel cache (SweepConfig.cacheFactors; default false). */
  cacheFactors?: boolean;
  /** Aborted on Ctrl-C: stop early (a job that does not finish writes no record and reruns on resume). */
  signal: AbortSignal;
  /** This job's memory budget in bytes: the sweep's budget divided among the jobs that run at once. */
  memoryBytes: number;
  /** Execution provider of the job's model. */
  device: Device;
  /** A complete record for this job: fills task, k, seed, method, model, version, timing and key. */
  record(r: RecordInput): ResultRecord;
  log(message: string): void;
  /** Skip malformed data rows with a warning (through `log`) instead of failing. */
  skipBadRows?: boolean;
}

export interface RecordInput {
  /** A method other than the job's, for a by-product of the job (e.g. `posthoc-lin:<optimizer>` of an ft job). */
  method?: string;
  /** The grid point (merged over the job's fixed hyperparameters). */
  hyperparameters?: Record<string, HyperValue>;
  /** The task's metric (acc or f1). */
  metric?: MetricName;
  dev: Record<string, number>;
  test: Record<string, number>;
  weightsHash: string;
  wallTimeS?: number;
  /** Which data the job's split holds (readDatasetVariant of its split directory). */
  dataset?: DatasetVariant;
}

/** Runs one job; returns one record per hyperparameter configuration it evaluated. */
export type Executor = (job: Job, ctx: JobContext) => Promise<ResultRecord[]>;

/** Executors by method kind (the part of `job.method` before the first ":"). */
export type ExecutorRegistry = Record<string, Executor>;

export function registryExecutor(registry: ExecutorRegistry): Executor {
  return (job, ctx) => {
    const kind = methodKind(job.method);
    const ex = registry[kind] ?? methodModule(kind)?.executor;
    if (!ex)
      throw new Error(`no executor for method "${job.method}" (known kinds: ${Object.keys(registry).join(", ")})`);
    return ex(job, ctx);
  };
}
