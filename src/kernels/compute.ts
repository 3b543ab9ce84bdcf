import type { ExampleGradFactors, ParamInfo } from "../model/grad-factors.ts";
import { cleanStaleTemps } from "../util/atomic.ts";
import { describeHolder, type LockInfo, withLock } from "../util/lock.ts";
import { progressBar } from "../util/progress.ts";
import { type Block, contractBlock, PAIR_KERNEL, pairsFor } from "./block.ts";
import {
  blockFile,
  type CacheWriteState,
  factorsKey,
  manifestPath,
  type NamedSource,
  planPath,
  readBlock,
  readManifest,
  readStoredPlan,
  writeBlock,
  writeManifest,
  writeStoredPlan,
} from "./cache.ts";
import { checkStructure, factorBytes, maxTokens, retainedBytes } from "./factors.ts";
import { collectGarbage } from "./gc.ts";
import { memtrace } from "./memtrace.ts";
import type { Pair } from "./ort-graphs.ts";
import { gradDim, includeParam } from "./params.ts";
import { defaultMemoryBytes, type KernelPlan, planKernels } from "./plan.ts";
import { defaultContractionWorkers } from "./slice-workers.ts";
import type { FactorInput, FactorSource, Formula, KernelName, ParamFilter, Strategy } from "./types.ts";

export interface KernelOptions {
  formulas: readonly Formula[];
  filter?: ParamFilter;
  /** Memory budget in bytes (default: half the RAM). */
  memoryBytes?: number;
  strategy?: Strategy;
  /** Where finished kernel blocks are kept so a rerun or an interrupted run resumes (no caching when absent). */
  cacheDir?: string;
  /** Shared with the job's factor caches: a full disk turns all cache writing off (src/kernels/cache.ts). */
  cacheState?: CacheWriteState;
  /** Upper bound on eval examples per block (default 128). */
  maxEvalBlock?: number;
  /** Model parameters, to report `grad_dim`. */
  params?: readonly ParamInfo[];
  quiet?: boolean;
  /** Stop at the next block (Ctrl-C in a sweep): blocks finished so far stay in the cache, so a rerun resumes. */
  signal?: AbortSignal;
  /**
   * Worker threads of the contraction, each running single-threaded sessions (default: one per core; 1 runs it
   * in-process on all cores; src/kernels/slice-workers.ts).
   */
  workers?: number;
  /** Override planned block sizes (tests, tuning); the memory check still runs first. */
  planOverride?: Partial<Pick<KernelPlan, "evalBlock" | "trainBlock" | "workBytes">>;
}

export interface KernelResult {
  /** Outputs per example (1 in binary mode). */
  C: number;
  nTrain: number;
  /** Examples per split ("train" first, then the eval splits). */
  sizes: Record<string, number>;
  /** float64 [n_train, C, n_split, C] per split and kernel. */
  kernels: Record<string, Partial<Record<KernelName, Float64Array>>>;
  gradDim?: number;
  plan: KernelPlan;
  /** The contraction strategy asked for ("auto" picks per block). */
  strategy: Strategy;
  /** contraction_cpu_s: CPU seconds of the process (all threads) while contracting, for rates on a shared machine. */
  timings: { gradients_s: number; contraction_s: number; total_s: number; contraction_cpu_s?: number };
  /** Kernel blocks read from the cache vs computed. */
  blocks: { cached: number; computed: number };
}

function asSource(input: FactorInput): FactorSource {
  if (!Array.isArray(input)) return input;
  return { size: input.length, load: async (s, e) => input.slice(s, e) };
}

/** Per-example cache keys: the source's own, or content hashes of in-memory factors; undefined = no caching. */
function keysOf(input: FactorInput): readonly string[] | undefined {
  return Array.isArray(input) ? input.map(factorsKey) : input.keys;
}

/**
 * Exact eNTKs (docs/kernels.md) between the train set and itself and each eval split, for every requested formula,
 * from one set of per-example gradient factors. Train factors stay resident; eval factors stream in blocks sized by
 * `memoryBytes`, each block contracted against all train examples and discarded. Finished blocks are cached.
 */
export async function computeKernels(
  train: FactorInput,
  evalSets: Record<string, FactorInput>,
  opts: KernelOptions,
): Promise<KernelResult> {
  if (opts.formulas.length === 0) throw new Error("computeKernels: no formulas requested");
  if ("train" in evalSets) throw new Error('computeKernels: "train" is always computed; do not pass it as an eval set');
  if (!opts.cacheDir) return computeUnlocked(train, evalSets, opts);
  cleanStaleTemps(opts.cacheDir);
  // One process computes a cached run at a time; another one on the same cache waits, then reads the finished run.
  const evals = Object.entries(evalSets).map(([name, input]) => ({ name, src: asSource(input) }));
  const manifest = manifestPath(opts.cacheDir, asSource(train), evals, pairsFor(opts.formulas), normFilter(opts));
  if (!manifest) return computeUnlocked(train, evalSets, opts);
  const onWait = (h: LockInfo) => {
    if (!opts.quiet)
      process.stderr.write(`entk: waiting for the kernel cache entry ${manifest}.lock: ${describeHolder(h)}\n`);
  };
  return withLock(`${manifest}.lock`, { what: "entk kernel", onWait, signal: opts.signal }, () =>
    computeUnlocked(train, evalSets, opts),
  );
}

/** The parameter filter normalized so that equal subsets give equal cache keys ({} and { onlyBiases: false } alike). */
function normFilter(opts: KernelOptions): ParamFilter {
  const f = opts.filter ?? {};
  return { excludeEmbeddings: !!f.excludeEmbeddings, excludeHead: !!f.excludeHead, onlyBiases: !!f.onlyBiases };
}

async function computeUnlocked(
  train: FactorInput,
  evalSets: Record<string, FactorInput>,
  opts: KernelOptions,
): Promise<KernelResult> {
  const t0 = performance.now();
  const filter = normFilter(opts);
  const pairs = pairsFor(opts.formulas);
  const trainSrc = asSource(train);
  if (trainSrc.size === 0) throw new Error("computeKernels: the train set is empty");
  let gradientsMs = 0;
  let contractionMs = 0;
  let contractionCpuUs = 0;

  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    const r = await f();
    gradientsMs += performance.now() - s;
    return r;
  };

  const evalSrcs = Object.entries(evalSets).map(([name, input]) => ({ name, src: asSource(input), input }));

  // A finished run with the same inputs is assembled from its cached blocks without computing any gradient.
  const manifest = opts.cacheDir ? manifestPath(opts.cacheDir, trainSrc, evalSrcs, pairs, filter) : undefined;
  const strategy = opts.strategy ?? "auto";
  if (manifest) {
    const done = fromManifest(manifest, opts.cacheDir!, trainSrc, evalSrcs, pairs, filter, strategy);
    if (done) {
      done.strategy = opts.strategy ?? "auto";
      done.gradDim = opts.params ? gradDim(opts.params, filter) : undefined;
      done.timings.total_s = (performance.now() - t0) / 1000;
      return done;
    }
  }
  const maxLen = (src: FactorSource, fallback: number) => {
    let t = fallback;
    if (src.tokens) for (let i = 0; i < src.size; i++) t = Math.max(t, src.tokens[i]);
    return t;
  };
  /**
   * Plan from the train factors loaded so far, after a collection so the RSS holds no garbage. Train bytes are
   * what those factors keep alive (padding included), extrapolated by token count when not all are loaded yet.
   */
  const makePlan = async (seen: ExampleGradFactors[]) => {
    await collectGarbage();
    const perToken = Math.max(...seen.map((ex) => factorBytes(ex) / Math.max(1, maxTokens([ex]))));
    const seenBytes = retainedBytes(seen);
    let trainBytes = seenBytes;
    if (seen.length < trainSrc.size) {
      const tk = trainSrc.tokens;
      const sum = (n: number) =>
        Array.from(tk ?? [], Number)
          .slice(0, n)
          .reduce((a, b) => a + b, 0);
      trainBytes = tk
        ? Math.ceil((seenBytes * sum(trainSrc.size)) / Math.max(1, sum(seen.length)))
        : Math.ceil((seenBytes / seen.length) * trainSrc.size);
    }
    let evalT = Math.max(1, maxTokens(seen));
    for (const { src } of evalSrcs) evalT = maxLen(src, evalT);
    const maxDIn = Math.max(1, ...seen[0].linears.filter((l) => includeParam(l.weight, filter)).map((l) => l.dIn));
    const input = {
      nTrain: trainSrc.size,
      trainBytes,
      // Views into padded engine outputs keep at most the longest eval length's rows per example.
      evalExampleBytes: Math.ceil(perToken * evalT),
      nEval: Math.max(trainSrc.size, ...evalSrcs.map((e) => e.src.size)),
      C: seen[0].C,
      maxDIn,
      memoryBytes: opts.memoryBytes ?? defaultMemoryBytes(),
      // What the process holds besides these factors (model weights, ORT sessions and arenas, Node) counts too.
      baselineBytes: Math.max(0, process.memoryUsage().rss - seenBytes),
      maxEvalBlock: opts.maxEvalBlock,
    };
    memtrace(`plan input ${JSON.stringify(input)}`);
    return planKernels(input);
  };

  // Phase 1: train factors, resident. The budget is checked after the first chunk, before the bulk of the work.
  const bar = progressBar("gradients", trainSrc.size, { quiet: opts.quiet, unit: "ex" });
  const trainEx: ExampleGradFactors[] = [];
  // The first chunk is one full engine call (32 examples of ≤ 32 tokens fill its token budget), so the engine's
  // activation arena has its working size when the baseline is measured; then smaller steps for the progress bar.
  const firstChunk = 32;
  const step = 8;
  try {
    for (let s = 0; s < trainSrc.size; s = s === 0 ? firstChunk : s + step) {
      const e = Math.min(trainSrc.size, s === 0 ? firstChunk : s + step);
      opts.signal?.throwIfAborted();
      const got = await timed(() => trainSrc.load(s, e));
      trainEx.push(...got);
      memtrace(`train factors ${e}`);
      if (s === 0) await makePlan(trainEx);
      bar.tick(got.length);
    }
  } finally {
    bar.stop();
  }
  for (const [i, ex] of trainEx.entries()) checkStructure(trainEx[0], ex, `train example ${i}`);
  const C = trainEx[0].C;
  const planned = await makePlan(trainEx);
  // The plan fixes the summation order (slices and GEMM calls per block), so a rerun of this run reuses the plan it
  // first stored when that still fits the budget: cached and recomputed blocks are then bit-identical.
  const trainKeys = opts.cacheDir ? keysOf(train) : undefined;
  const evalKeys = evalSrcs.map((e) => ({ name: e.name, keys: opts.cacheDir ? keysOf(e.input) : undefined }));
  const planFile =
    opts.cacheDir && trainKeys && evalKeys.every((e) => e.keys)
      ? planPath(opts.cacheDir, pairs, filter, trainKeys, evalKeys)
      : undefined;
  const stored = planFile ? readStoredPlan(planFile, planned) : undefined;
  const plan: KernelPlan = { ...planned, ...stored, ...opts.planOverride };
  if (planFile && !stored) await writeStoredPlan(planFile, plan, opts.cacheState);
  memtrace(`planned ${JSON.stringify(plan)}`);

  const blockOpts = {
    pairs,
    filter,
    strategy,
    trainBlock: plan.trainBlock,
    workBytes: plan.workBytes,
    workers: opts.workers ?? defaultContractionWorkers(),
  };
  const result: KernelResult = {
    C,
    nTrain: trainEx.length,
    sizes: {},
    kernels: {},
    gradDim: opts.params ? gradDim(opts.params, filter) : undefined,
    plan,
    strategy: blockOpts.strategy,
    timings: { gradients_s: 0, contraction_s: 0, total_s: 0 },
    blocks: { cached: 0, computed: 0 },
  };

  /**
   * One eval block's kernels: from the cache, or loaded and contracted. Its own function so that the factors die
   * with its frame: a suspended async loop keeps stale locals alive, which kept the previous block resident while
   * the next one loaded (measured +1.5 GB).
   */
  const blockAt = async (split: (typeof splits)[number], b0: number, b1: number): Promise<Block> => {
    const file =
      trainKeys && split.keys && opts.cacheDir
        ? blockFile(opts.cacheDir, C, pairs, filter, trainKeys, split.keys.slice(b0, b1), blockOpts)
        : undefined;
    const cached = file ? readBlock(file, pairs) : undefined;
    if (cached) {
      result.blocks.cached++;
      return cached;
    }
    const evals = split.name === "train" ? trainEx.slice(b0, b1) : await timed(() => split.src.load(b0, b1));
    memtrace(`${split.name} ${b0}-${b1} factors`);
    for (const [i, ex] of evals.entries()) checkStructure(trainEx[0], ex, `${split.name} example ${b0 + i}`);
    const s = performance.now();
    const cpu0 = process.cpuUsage();
    const block = await contractBlock(trainEx, evals, blockOpts);
    const cpu = process.cpuUsage(cpu0);
    contractionCpuUs += cpu.user + cpu.system;
    contractionMs += performance.now() - s;
    result.blocks.computed++;
    memtrace(`${split.name} ${b0}-${b1} contracted`);
    if (file) await writeBlock(file, pairs, block, opts.cacheState);
    return block;
  };

  const splits = [
    { name: "train", src: asSource(trainEx), keys: trainKeys },
    ...evalSrcs.map((e, i) => ({ name: e.name, src: e.src, keys: evalKeys[i].keys })),
  ];
  const total = splits.reduce((a, s) => a + s.src.size, 0);
  const cbar = progressBar("contraction", total, { quiet: opts.quiet, unit: "ex" });
  for (const split of splits) {
    const n = split.src.size;
    const K: Partial<Record<Pair, Float64Array>> = {};
    for (const p of pairs) K[p] = new Float64Array(trainEx.length * C * n * C);
    for (let b0 = 0; b0 < n; b0 += plan.evalBlock) {
      const b1 = Math.min(n, b0 + plan.evalBlock);
      // The previous block's factors are unreferenced by now (they lived only in blockAt's frame); collect them
      // before the next block loads so that two blocks are never resident together.
      await collectGarbage();
      memtrace(`${split.name} ${b0} after gc`);
      opts.signal?.throwIfAborted();
      const block = await blockAt(split, b0, b1);
      scatterBlock(K, block, pairs, trainEx.length * C, n * C, b0 * C, (b1 - b0) * C);
      cbar.tick(b1 - b0);
    }
    result.sizes[split.name] = n;
    result.kernels[split.name] = Object.fromEntries(pairs.map((p) => [PAIR_KERNEL[p], K[p]!]));
  }
  cbar.stop();
  if (manifest) {
    await writeManifest(
      manifest,
      {
        v: 1,
        C,
        nTrain: trainEx.length,
        evalBlock: plan.evalBlock,
        sizes: result.sizes,
        plan,
      },
      opts.cacheState,
    );
  }
  result.timings = {
    gradients_s: gradientsMs / 1000,
    contraction_s: contractionMs / 1000,
    total_s: (performance.now() - t0) / 1000,
    contraction_cpu_s: contractionCpuUs / 1e6,
  };
  return result;
}

/** Copy a [R, q] block into columns [col0, col0 + q) of the [R, Q] kernels. */
function scatterBlock(
  K: Partial<Record<Pair, Float64Array>>,
  block: Block,
  pairs: readonly Pair[],
  R: number,
  Q: number,
  col0: number,
  q: number,
): void {
  for (const p of pairs) {
    const dst = K[p]!;
    const src = block[p]!;
    for (let r = 0; r < R; r++) dst.set(src.subarray(r * q, (r + 1) * q), r * Q + col0);
  }
}

/** Assemble a finished run from its manifest and blocks; undefined if anything is missing or corrupt. */
function fromManifest(
  path: string,
  dir: string,
  train: FactorSource,
  evals: readonly NamedSource[],
  pairs: readonly Pair[],
  filter: ParamFilter,
  strategy: Strategy,
): KernelResult | undefined {
  const m = readManifest(path);
  if (!m) return undefined;
  const trainKeys = train.keys!;
  const result: KernelResult = {
    C: m.C,
    nTrain: m.nTrain,
    sizes: {},
    kernels: {},
    plan: m.plan,
    strategy: "auto",
    timings: { gradients_s: 0, contraction_s: 0, total_s: 0 },
    blocks: { cached: 0, computed: 0 },
  };
  for (const { name, src } of [{ name: "train", src: train }, ...evals]) {
    const n = src.size;
    if (m.sizes[name] !== n) return undefined;
    const K: Partial<Record<Pair, Float64Array>> = {};
    for (const p of pairs) K[p] = new Float64Array(m.nTrain * m.C * n * m.C);
    for (let b0 = 0; b0 < n; b0 += m.evalBlock) {
      const b1 = Math.min(n, b0 + m.evalBlock);
      const order = { trainBlock: m.plan.trainBlock, workBytes: m.plan.workBytes, strategy };
      const block = readBlock(blockFile(dir, m.C, pairs, filter, trainKeys, src.keys!.slice(b0, b1), order), pairs);
      if (!block) return undefined;
      result.blocks.cached++;
      scatterBlock(K, block, pairs, m.nTrain * m.C, n * m.C, b0 * m.C, (b1 - b0) * m.C);
    }
    result.sizes[name] = n;
    result.kernels[name] = Object.fromEntries(pairs.map((p) => [PAIR_KERNEL[p], K[p]!]));
  }
  return result;
}
