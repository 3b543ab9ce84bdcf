import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import { defaultMemoryBytes } from "../kernels/plan.ts";
import { DEFAULT_DEVICE, type Device } from "../model/runtime/providers.ts";
import { cleanStaleTempsTree, writeFileAtomic } from "../util/atomic.ts";
import { acquireLock, describeHolder, type Lock, LockHeldError, removeStaleLocks } from "../util/lock.ts";
import { progressBar } from "../util/progress.ts";
import { ENTK_VERSION } from "../version.ts";
import { configHash, resolveOutDir, type SweepConfig } from "./config.ts";
import { type Executor, type JobContext, registryExecutor } from "./executor.ts";
import { expandJobs, type Job } from "./jobs.ts";
import { machineInfo, RECORD_SCHEMA, type ResultRecord } from "./records.ts";
import { type Shard, selectShard, WHOLE } from "./shard.ts";
import { ResultsStore } from "./store.ts";
import { defaultExecutors } from "./wiring.ts";

export interface RunSweepOptions {
  shard?: Shard;
  /** Jobs run at once (default 1: each job already uses every core through ORT's intra-op threads). */
  concurrency?: number;
  /** Runs one job; default: the method-kind registry of src/experiments/wiring.ts. */
  executor?: Executor;
  /** Abort to stop (Ctrl-C): no new job starts, running jobs see ctx.signal; finished records are kept. */
  signal?: AbortSignal;
  /** Overrides config.out. */
  outDir?: string;
  quiet?: boolean;
  /** Stop at the first failed job instead of running the rest. */
  failFast?: boolean;
  /** Memory budget of the whole run in bytes (overrides config.memory; default half the RAM), shared by the jobs. */
  memoryBytes?: number;
  /** Execution provider (overrides config.device; default cpu). */
  device?: Device;
  log?: (message: string) => void;
  /** Skip malformed data rows with a warning instead of failing the job. */
  skipBadRows?: boolean;
}

export interface SweepSummary {
  outDir: string;
  configHash: string;
  /** Jobs in the whole sweep / in this shard / already finished before this run / finished now / failed now. */
  total: number;
  inShard: number;
  alreadyDone: number;
  ran: number;
  failed: { key: string; method: string; task: string; error: string }[];
  interrupted: boolean;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");

/**
 * Run (this shard of) a sweep: expand, skip jobs whose records exist, run the rest with p-limit, write each job's
 * records atomically as it finishes. Safe to kill at any time and rerun: it resumes where it stopped.
 */
export async function runSweep(config: SweepConfig, opts: RunSweepOptions = {}): Promise<SweepSummary> {
  const shard = opts.shard ?? WHOLE;
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be an integer >= 1`);
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const executor = opts.executor ?? registryExecutor(defaultExecutors);
  const outDir = opts.outDir ?? resolveOutDir(config);
  const cfgHash = configHash(config);
  const signal = opts.signal ?? new AbortController().signal;
  const store = new ResultsStore(outDir);
  const machine = machineInfo();
  // Jobs running at once each plan for their share of the budget, so that together they stay within it.
  const jobMemoryBytes = Math.floor((opts.memoryBytes ?? config.memory ?? defaultMemoryBytes()) / concurrency);
  const device = opts.device ?? config.device ?? DEFAULT_DEVICE;

  const all = expandJobs(config);
  const mine = selectShard(all, shard);
  // What killed runs left: temp files of dead writers anywhere below OUT, job locks of dead processes.
  cleanStaleTempsTree(outDir);
  removeStaleLocks(join(outDir, "jobs"));
  const done = store.keys();
  // A record file that cannot be read (truncated, edited) does not count as done: the job runs again.
  for (const j of mine)
    if (done.has(j.key)) {
      const problem = store.problem(j.key);
      if (problem) {
        log(`entk: warning: ${problem}; recomputing job ${j.key}`);
        done.delete(j.key);
      }
    }
  const todo = mine.filter((j) => !done.has(j.key));
  const summary: SweepSummary = {
    outDir,
    configHash: cfgHash,
    total: all.length,
    inShard: mine.length,
    alreadyDone: mine.length - todo.length,
    ran: 0,
    failed: [],
    interrupted: false,
  };
  await mkdir(store.recordsDir, { recursive: true });
  const shardTag = `${shard.index}-of-${shard.count}`;
  const manifestPath = join(outDir, "shards", `${shardTag}.json`);
  const startedAt = new Date().toISOString();
  const writeManifest = (finishedAt?: string) =>
    writeFileAtomic(
      manifestPath,
      `${JSON.stringify({ shard: shardTag, configHash: cfgHash, config, entkVersion: ENTK_VERSION, machine, startedAt, finishedAt, summary }, null, 2)}\n`,
    );
  await writeManifest();
  log(
    `sweep ${config.name}: ${all.length} jobs${shard.count > 1 ? `, shard ${shard.index}/${shard.count} has ${mine.length}` : ""}; ` +
      `${summary.alreadyDone} already done, ${todo.length} to run (concurrency ${concurrency})`,
  );

  const bar = progressBar("sweep", todo.length, { quiet: opts.quiet, unit: "jobs" });
  const limit = pLimit(concurrency);
  const failStop = new AbortController();
  const jobSignal = AbortSignal.any([signal, failStop.signal]);

  // Jobs another process (a second sweep on this directory) is running: waited for after our own.
  const busy: Job[] = [];
  const runOne = async (job: Job, wait = false) => {
    if (jobSignal.aborted) return;
    const lockPath = join(outDir, "jobs", `${job.key}.lock`);
    let lock: Lock;
    try {
      lock = await acquireLock(lockPath, { wait, what: `entk sweep ${outDir}`, signal: jobSignal });
    } catch (err) {
      if (err instanceof LockHeldError) {
        log(`job ${job.key}: ${describeHolder(err.holder).split(";")[0]}; waiting for it after the other jobs`);
        busy.push(job);
        return;
      }
      if (jobSignal.aborted) return;
      throw err;
    }
    try {
      if (store.has(job.key) && !store.problem(job.key)) {
        summary.alreadyDone++; // finished by the other process meanwhile
        return;
      }
      await runLocked(job);
    } finally {
      lock.release();
    }
  };
  const runLocked = async (job: Job) => {
    const t0 = performance.now();
    const workDir = join(outDir, "jobs", job.key);
    const ctx: JobContext = {
      workDir,
      cacheDir: join(outDir, "cache", slug(job.group.replace("|", "--"))),
      kernelCacheDir: join(outDir, "cache", "kernels"),
      cacheFactors: config.cacheFactors ?? false,
      signal: jobSignal,
      memoryBytes: jobMemoryBytes,
      device,
      log,
      skipBadRows: opts.skipBadRows,
      record: (r) => ({
        schema: RECORD_SCHEMA,
        key: job.key,
        task: job.task,
        k: job.k,
        seed: job.seed,
        method: r.method ?? job.method,
        hyperparameters: { ...job.hyperparameters, ...(r.hyperparameters ?? {}) },
        ...(r.metric ? { metric: r.metric } : {}),
        dev: r.dev,
        test: r.test,
        model: { ...job.model, weightsHash: r.weightsHash },
        entkVersion: ENTK_VERSION,
        wallTimeS: r.wallTimeS ?? (performance.now() - t0) / 1000,
        finishedAt: new Date().toISOString(),
        configHash: cfgHash,
        machine,
        ...(r.dataset ? { dataset: r.dataset } : {}),
      }),
    };
    try {
      await mkdir(workDir, { recursive: true });
      const records: ResultRecord[] = await executor(job, ctx);
      if (records.length === 0) throw new Error("the executor returned no records");
      await store.put(job.key, records);
      await rm(join(outDir, "failed", `${job.key}.json`), { force: true });
      summary.ran++;
    } catch (err) {
      // Stopped by Ctrl-C or by --fail-fast after another job failed: not a failure, the job reruns on resume.
      if (jobSignal.aborted) return;
      const error = err instanceof Error ? err.message : String(err);
      summary.failed.push({ key: job.key, method: job.method, task: job.task, error });
      await writeFileAtomic(
        join(outDir, "failed", `${job.key}.json`),
        `${JSON.stringify({ job, error, at: new Date().toISOString() }, null, 2)}\n`,
      );
      log(`job ${job.key} (${job.task} k=${job.k} seed=${job.seed} ${job.method}) failed: ${error}`);
      if (opts.failFast) failStop.abort();
    } finally {
      bar.tick();
    }
  };

  try {
    await Promise.all(todo.map((job) => limit(() => runOne(job))));
    for (const job of busy.splice(0)) await runOne(job, true);
  } finally {
    bar.stop();
  }
  summary.interrupted = signal.aborted;
  // The merged view is one file, so only an unsharded, complete run writes it (shards would collide on it). It
  // holds this config's jobs only, even if the directory also has records of other configs.
  if (shard.count === 1 && !summary.interrupted && summary.failed.length === 0)
    await store.mergeTo(join(outDir, "results.jsonl"), new Set(all.map((j) => j.key)));
  await writeManifest(summary.interrupted ? undefined : new Date().toISOString());
  return summary;
}
