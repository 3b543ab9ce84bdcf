/**
 * `entk sweep CONFIG --plan` (issue 18 item 2, issue 22 item 1; README "Planning a sweep"): what each job of a sweep
 * will cost, predicted without running it — GEMM FLOPs (src/kernels/cost.ts, src/training/cost.ts), seconds on
 * this machine (FLOPs ÷ the Gemm probe's rate ÷ the phase's measured efficiency), peak memory (the kernel planner of
 * src/kernels/plan.ts with an estimated baseline), and the bytes its caches take (src/kernels/disk.ts). Token counts
 * are measured: each (task, k, seed) split is generated as the runner would (into a scratch folder) and tokenized.
 *
 * Jobs share work as the runner does: the kernel jobs of one unit (task, k, seed) and formula — one per solver —
 * compute the kernel once and read its cached blocks after (only the initial logits are recomputed); with
 * `cacheFactors`, gradient factors are computed once per unit for train and dev, and once per task and C for the test
 * set shared by all seeds.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pairsFor } from "../kernels/block.ts";
import { isClassicFormula } from "../kernels/classic.ts";
import { kernelJobFlops, modelTensors, PHASE_EFFICIENCY } from "../kernels/cost.ts";
import { predictExampleFactorBytes, predictFactorBytes, predictKernelBlockBytes } from "../kernels/disk.ts";
import { ARENA_FACTOR, defaultMemoryBytes, planKernels } from "../kernels/plan.ts";
import { gemmProbe } from "../kernels/probe.ts";
import type { Formula } from "../kernels/types.ts";
import { resolveCachedModel } from "../model/hub/resolve.ts";
import { readModelConfig } from "../model/weights/config.ts";
import type { ModelConfig } from "../model/weights/types.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { expectedMaxLength, FT_EFFICIENCY, finetuneFlops, finetunePeakBytes, paramCount } from "../training/cost.ts";
import { OptionError } from "../util/errors.ts";
import type { SweepConfig } from "./config.ts";
import { parseFtMethod } from "./ft-executor.ts";
import { expandJobs, type Job, methodKind } from "./jobs.ts";
import { parseKernelMethod } from "./kernel-executor.ts";
import { type UnitTokens, unitTokenCounter } from "./plan-data.ts";
import { type Shard, selectShard, WHOLE } from "./shard.ts";

export interface PlanContext {
  cfg: ModelConfig;
  /** Token counts and label words of a job's unit (plan-data.ts). */
  tokens: (job: Job) => Promise<UnitTokens>;
  /** Memory budget of one job (the sweep's budget ÷ its concurrency). */
  memoryBytes: number;
  /** The Gemm probe's rate here, GFLOP/s (src/kernels/probe.ts). */
  gflops: number;
  /** The config's `cacheFactors`. */
  cacheFactors: boolean;
}

export interface JobEstimate {
  job: Job;
  /** GEMM FLOPs per phase (logits, gradients, contraction; train, eval). */
  flops: Record<string, number>;
  seconds: number;
  /** Predicted peak resident memory (bytes). */
  peakBytes: number;
  /** Kernel blocks this job writes to the cache (0 when it reads another job's). */
  kernelBlockBytes: number;
  /** Gradient factors this job would write with `cacheFactors` (0 when an earlier job cached them). */
  factorBytes: number;
  /** Fine-tuning's `best/` checkpoint and resumable snapshot (estimated: 4 float32 copies of the parameters). */
  checkpointBytes: number;
  notes: string[];
}

/**
 * Bytes the process holds before any factor (estimated): the weights in JS, in each engine session (logits and
 * factors graphs), plus Node and onnxruntime themselves. The kernel job measures this (src/kernels/compute.ts).
 */
export function baselineEstimate(cfg: ModelConfig): number {
  return 3 * 4 * paramCount(cfg) + 2 ** 28;
}

const boolOpt = (v: unknown) => v === true;
const sumOf = (xs: Iterable<number>) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

/** Predictions for these jobs, in order, sharing work among them as the runner does (header). */
export async function estimateJobs(jobs: readonly Job[], ctx: PlanContext): Promise<JobEstimate[]> {
  const blocksDone = new Map<string, string>();
  const factorsDone = new Set<string>();
  const out: JobEstimate[] = [];
  for (const job of jobs) {
    const kind = methodKind(job.method);
    const t = await ctx.tokens(job);
    const notes = t.approx ? [t.approx] : [];
    const classic = kind === "kernel" && isClassicFormula(parseKernelMethod(job.method).formula);
    if (kind === "kernel" && !classic) out.push(kernelEstimate(job, t, ctx, blocksDone, factorsDone, notes));
    else if (kind === "ft" || kind === "ft-lin") out.push(finetuneEstimate(job, t, ctx, notes));
    else
      out.push({
        job,
        flops: {},
        seconds: 0,
        peakBytes: 0,
        kernelBlockBytes: 0,
        factorBytes: 0,
        checkpointBytes: 0,
        notes: [...notes, `no cost model for ${classic ? "classic-kernel" : kind} jobs (counted as 0)`],
      });
  }
  return out;
}

function kernelEstimate(
  job: Job,
  t: UnitTokens,
  ctx: PlanContext,
  blocksDone: Map<string, string>,
  factorsDone: Set<string>,
  notes: string[],
): JobEstimate {
  const formula = parseKernelMethod(job.method).formula as Formula;
  const h = job.hyperparameters;
  const binary = boolOpt(h.binary);
  const filter = {
    excludeEmbeddings: boolOpt(h.excludeEmbeddings),
    excludeHead: boolOpt(h.excludeHead),
    onlyBiases: boolOpt(h.onlyBiases),
  };
  const K = t.labelWordIds.length;
  const C = binary ? 1 : K;
  const { cfg } = ctx;
  const evals = { dev: t.dev, test: t.test };
  const nTrain = t.train.length;
  const maxEvalSplit = Math.max(nTrain, t.dev.length, t.test.length);
  const maxEvalT = Math.max(1, ...t.train, ...t.dev, ...t.test);
  const maxDIn = Math.max(
    1,
    ...modelTensors(cfg)
      .linears.filter((l) => !filter.onlyBiases && !(filter.excludeHead && l.maskOnly))
      .map((l) => l.dIn),
  );
  let plan: ReturnType<typeof planKernels>;
  try {
    plan = planKernels({
      nTrain,
      trainBytes: predictFactorBytes(cfg, t.train, C, K),
      evalExampleBytes: predictExampleFactorBytes(cfg, maxEvalT, C, K),
      nEval: Math.max(nTrain, t.dev.length, t.test.length),
      C,
      maxDIn,
      memoryBytes: ctx.memoryBytes,
      baselineBytes: baselineEstimate(cfg),
    });
  } catch (err) {
    return {
      job,
      flops: {},
      seconds: Number.NaN,
      peakBytes: Number.NaN,
      kernelBlockBytes: 0,
      factorBytes: 0,
      checkpointBytes: 0,
      notes: [...notes, (err as Error).message],
    };
  }
  const f = kernelJobFlops({
    cfg,
    tokens: { train: t.train, evals },
    nLabelWords: K,
    binary,
    formulas: [formula],
    filter,
    evalBlock: plan.evalBlock,
    trainBlock: plan.trainBlock,
    workBytes: plan.workBytes,
  });
  const blockKey = `${job.unit}|${formula}|${binary}|${JSON.stringify(filter)}`;
  const firstJob = blocksDone.get(blockKey);
  let flops: Record<string, number>;
  let kernelBlockBytes = 0;
  let factorBytes = 0;
  if (firstJob) {
    notes.push(`kernel blocks cached by job ${firstJob}: logits only`);
    flops = { logits: f.logits, gradients: 0, contraction: 0 };
  } else {
    blocksDone.set(blockKey, job.key);
    kernelBlockBytes = predictKernelBlockBytes(C, pairsFor([formula]).length, nTrain, [
      nTrain,
      t.dev.length,
      t.test.length,
    ]);
    let gradients = f.gradients;
    // Factors of a split already cached by an earlier job are read, not computed nor written again (only with
    // cacheFactors; factorBytes says what caching them would take either way).
    const keys: Record<string, string> = {
      train: `${job.unit}|${C}|train`,
      dev: `${job.unit}|${C}|dev`,
      test: `${job.group}|${C}|test`,
    };
    for (const split of ["train", "dev", "test"] as const) {
      if (factorsDone.has(keys[split])) {
        if (ctx.cacheFactors) gradients -= f.gradientsBySplit[split] ?? 0;
      } else {
        factorsDone.add(keys[split]);
        factorBytes += predictFactorBytes(cfg, t[split], C, K);
      }
    }
    flops = { logits: f.logits, gradients, contraction: f.contraction };
  }
  const seconds =
    sumOf(
      (Object.keys(flops) as (keyof typeof PHASE_EFFICIENCY)[]).map(
        (p) => flops[p] / (ctx.gflops * 1e9 * PHASE_EFFICIENCY[p]),
      ),
    ) || 0;
  const parts = plan.parts!;
  // The arena grows to the largest call's work space only: a whole tensor's rows of both sides when that is less
  // than the planned work space (block.ts sliceRows: 3 or 4 float32 copies per materialized row).
  const signed = formula !== "sgd";
  const largest = Math.max(
    ...modelTensors(cfg).linears.map(
      (l) => 4 * l.dIn * l.dOut * (plan.trainBlock + Math.min(plan.evalBlock, maxEvalSplit)) * C * (signed ? 4 : 3),
    ),
  );
  const arena = ARENA_FACTOR * Math.min(plan.workBytes, largest);
  return {
    job,
    flops,
    seconds,
    peakBytes: parts.baseline + parts.train + parts.evalBlock + arena,
    kernelBlockBytes,
    factorBytes,
    checkpointBytes: 0,
    notes,
  };
}

function finetuneEstimate(job: Job, t: UnitTokens, ctx: PlanContext, notes: string[]): JobEstimate {
  parseFtMethod(job.method);
  const h = job.hyperparameters;
  const num = (name: string) => {
    const v = h[name];
    if (typeof v !== "number")
      throw new Error(`job ${job.key} (${job.method}): hyperparameter ${name} is not a number`);
    return v;
  };
  const linearized = job.method.startsWith("ft-lin:");
  const variant = boolOpt(h.noPrompt) || boolOpt(h.lora);
  const batchSize = num("batchSize");
  const f = finetuneFlops({
    cfg: ctx.cfg,
    tokens: t,
    nLabelWords: t.labelWordIds.length,
    batchSize,
    steps: num("steps"),
    evalEvery: h.evalEvery === "epoch" ? "epoch" : num("evalEvery"),
    posthocLinear: !linearized && !variant,
    linearized,
  });
  const rate = ctx.gflops * 1e9;
  return {
    job,
    flops: f,
    seconds: f.train / (rate * FT_EFFICIENCY) + f.eval / (rate * PHASE_EFFICIENCY.logits),
    peakBytes: finetunePeakBytes(ctx.cfg, batchSize, expectedMaxLength(t.train, batchSize)),
    kernelBlockBytes: 0,
    factorBytes: 0,
    checkpointBytes: 4 * 4 * paramCount(ctx.cfg),
    notes,
  };
}

export interface PlanTotals {
  jobs: number;
  flops: number;
  seconds: number;
  /** Largest peak memory of any job (jobs run one at a time per `--concurrency` slot). */
  peakBytes: number;
  kernelBlockBytes: number;
  factorBytes: number;
  checkpointBytes: number;
}

export function planTotals(es: readonly JobEstimate[]): PlanTotals {
  return {
    jobs: es.length,
    flops: sumOf(es.map((e) => sumOf(Object.values(e.flops)))),
    seconds: sumOf(es.map((e) => (Number.isFinite(e.seconds) ? e.seconds : 0))),
    peakBytes: Math.max(0, ...es.map((e) => e.peakBytes).filter((b) => Number.isFinite(b))),
    kernelBlockBytes: sumOf(es.map((e) => e.kernelBlockBytes)),
    factorBytes: sumOf(es.map((e) => e.factorBytes)),
    checkpointBytes: sumOf(es.map((e) => e.checkpointBytes)),
  };
}

export interface PlanSweepOptions {
  /** Plan this shard's jobs; totals of every shard of the same count are given too. */
  shard?: Shard;
  /** Memory budget of the whole sweep (default: the config's, else half the RAM), split over `concurrency`. */
  memoryBytes?: number;
  concurrency?: number;
  /** A model directory (config.json and tokenizer) to plan with instead of resolving the config's model. */
  modelDir?: string;
  /** The probe's rate in GFLOP/s; measured (a few seconds) when absent. */
  gflops?: number;
}

export interface SweepPlan {
  modelDir: string;
  gflops: number;
  /** Load average when the probe ran (1, 5, 15 minutes). */
  load: number[];
  memoryBytes: number;
  jobs: JobEstimate[];
  totals: PlanTotals;
  /** Totals of the whole sweep, and per shard when a shard was asked for. */
  whole: PlanTotals;
  shards?: PlanTotals[];
}

function modelDirOf(config: SweepConfig, override?: string): string {
  if (override) return override;
  if (existsSync(join(config.model.id, "config.json"))) return config.model.id;
  try {
    return resolveCachedModel(config.model.id, { revision: config.model.revision }).dir;
  } catch (err) {
    const msg = (err as Error).message;
    throw new OptionError(
      "planModel",
      (n) => `${msg}; or plan with a model directory of the same shape (${n("planModel")})`,
    );
  }
}

/** Predict a sweep's jobs (this shard's), totals and per-shard totals, running nothing (header). */
export async function planSweep(config: SweepConfig, o: PlanSweepOptions = {}): Promise<SweepPlan> {
  const modelDir = modelDirOf(config, o.modelDir);
  const cfg = readModelConfig(modelDir);
  const tok = await loadTokenizer(modelDir);
  const memoryBytes = Math.floor((o.memoryBytes ?? config.memory ?? defaultMemoryBytes()) / (o.concurrency ?? 1));
  const load = loadavg();
  const gflops = o.gflops ?? (await gemmProbe()).gflops;
  const scratch = mkdtempSync(join(tmpdir(), "entk-plan-"));
  try {
    const ctx: PlanContext = {
      cfg,
      tokens: unitTokenCounter(tok, scratch),
      memoryBytes,
      gflops,
      cacheFactors: config.cacheFactors ?? false,
    };
    const all = expandJobs(config);
    const shard = o.shard ?? WHOLE;
    const wholeEst = await estimateJobs(all, ctx);
    let shards: PlanTotals[] | undefined;
    let mine = wholeEst;
    if (shard.count > 1) {
      // Each shard shares work only among its own jobs (its own cache): plan each one on its own.
      shards = [];
      for (let i = 1; i <= shard.count; i++) {
        const est = await estimateJobs(selectShard(all, { index: i, count: shard.count }), ctx);
        shards.push(planTotals(est));
        if (i === shard.index) mine = est;
      }
    }
    return {
      modelDir,
      gflops,
      load,
      memoryBytes,
      jobs: mine,
      totals: planTotals(mine),
      whole: planTotals(wholeEst),
      shards,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
