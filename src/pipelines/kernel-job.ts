import { homedir } from "node:os";
import { join } from "node:path";
import { pairsFor } from "../kernels/block.ts";
import { type CacheWriteState, cachedFactorSource, sha256 } from "../kernels/cache.ts";
import { cacheGroup, groupDirs, listCacheEntries, pruneCache, useCacheGroup } from "../kernels/cache-admin.ts";
import { describeBudget, factorCaching, resolveCacheBudget } from "../kernels/cache-budget.ts";
import { type ClassicFormula, type ClassicOptions, classicKernels, isClassicFormula } from "../kernels/classic.ts";
import { computeKernels, type KernelResult } from "../kernels/compute.ts";
import { formatBytes, predictFactorBytes, predictKernelBlockBytes } from "../kernels/disk.ts";
import { modelFactorSource } from "../kernels/model-source.ts";
import { type KernelMeta, type SplitRecord, writeKernelOutputs } from "../kernels/output.ts";
import { checkBudgetUpFront, defaultMemoryBytes } from "../kernels/plan.ts";
import { type FactorSource, FORMULAS, type Formula, type ParamFilter, type Strategy } from "../kernels/types.ts";
import { modelFeatures } from "../model/features.ts";
import { loadModel } from "../model/load.ts";
import { createPromptModel } from "../model/prompt-model.ts";
import { DEFAULT_DEVICE, type Device } from "../model/runtime/providers.ts";
import type { PromptInput } from "../model/types.ts";
import { type ModelVariant, variantTag } from "../model/variant.ts";
import { assertFiniteOutputs } from "../model/weights/finite.ts";
import type { ModelConfig } from "../model/weights/types.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import type { EncodedExample } from "../prompts/template.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { beginDirAtomic } from "../util/atomic-dir.ts";
import { OptionError } from "../util/errors.ts";
import { progressBar } from "../util/progress.ts";
import { loadPromptedSplits } from "./prompted-splits.ts";
import { variantWeights } from "./variant.ts";

export interface KernelJobOptions {
  /** Model directory or Hugging Face repo id. */
  model: string;
  revision?: string;
  offline?: boolean;
  /** Task name (bundled), task .json path, or a loaded task definition (e.g. with prompt overrides). */
  task: string | TaskDef;
  /** k-shot split directory holding the task's train/dev/test files. */
  splitDir: string;
  /** eNTK formulas and/or classic kernels on the frozen features (docs/analyses.md §5). */
  formulas: (Formula | ClassicFormula)[];
  /** Hyperparameters of the classic kernels (defaults in src/kernels/classic.ts). */
  classic?: ClassicOptions;
  binary?: boolean;
  filter?: ParamFilter;
  evalSplits?: ("dev" | "test")[];
  /** Use a seeded subsample of N examples of each eval split (the same for every seed; `subsample`). */
  limitEval?: number;
  memoryBytes?: number;
  device?: Device;
  strategy?: Strategy;
  out: string;
  /** Cache root (default $ENTK_CACHE_DIR or ~/.cache/entk); `false` disables caching. */
  cacheDir?: string | false;
  /**
   * Also cache per-example gradient factors (large: README "Disk use"); default false, i.e. only kernel blocks are
   * cached and factors are recomputed. A sweep turns it on to differentiate a shared test set once per task.
   */
  cacheFactors?: boolean;
  /**
   * Cache budget in bytes (default $ENTK_CACHE_MAX, else a share of the free disk: src/kernels/cache-budget.ts).
   * After the job the cache is pruned to it, least recently used entries first (across jobs and tasks; groups that
   * other running jobs use are left alone). Whether factors are cached: `factorCaching` there.
   */
  cacheMax?: number;
  quiet?: boolean;
  /** Stop at the next gradient chunk or kernel block (finished blocks stay cached). */
  signal?: AbortSignal;
  /** Skip malformed data rows (each reported through `onSkip`) instead of failing. */
  skipBadRows?: boolean;
  onSkip?: (message: string) => void;
  /** The sweep job this run belongs to (its content key), recorded in meta.json. */
  jobKey?: string;
  /**
   * No prompt (classifier on h_<s>, initialized by the linear probe) and/or LoRA (kernel over the adapters and the
   * heads); docs/no-prompt-and-lora.md.
   */
  variant?: ModelVariant;
  /** Seed of LoRA's A initialization (default 0). */
  loraSeed?: number;
}

/** Default cache root shared by all runs, so the test set is differentiated once per task and model. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ENTK_CACHE_DIR || join(homedir(), ".cache", "entk");
}

/** What a job's caches take (src/kernels/disk.ts): factors of every example, kernel blocks of train × eval. */
export function predictJobDisk(
  cfg: ModelConfig,
  splits: Record<string, readonly { inputIds: ArrayLike<number> }[]>,
  C: number,
  nLabelWords: number,
  nPairs: number,
): { factorBytes: number; kernelBlockBytes: number } {
  const tokens = Object.values(splits).flatMap((xs) => xs.map((x) => x.inputIds.length));
  const nTrain = splits.train?.length ?? 0;
  const nEval = Object.entries(splits)
    .filter(([n]) => n !== "train")
    .map(([, xs]) => xs.length);
  return {
    factorBytes: predictFactorBytes(cfg, tokens, C, nLabelWords),
    kernelBlockBytes: predictKernelBlockBytes(C, nPairs, nTrain, [nTrain, ...nEval]),
  };
}

/**
 * `entk kernel` as a library call: load the task split and the model, encode the prompts, compute initial logits
 * and all requested kernels from one gradient pass, and write the output directory (README "Kernel output layout").
 */
export async function runKernelJob(o: KernelJobOptions): Promise<KernelMeta> {
  const t0 = performance.now();
  // An unwritable `out` fails now, not after the computation (the output is replaced as a whole at the end).
  await (await beginDirAtomic(o.out)).abort();
  const task = typeof o.task === "string" ? loadTask(o.task) : o.task;
  if (o.binary && task.labels.length !== 2)
    throw new OptionError(
      "binary",
      (n) => `${n("binary")} needs a task with 2 labels; ${task.name} has ${task.labels.length}`,
    );
  const weights = await loadModel(o.model, { revision: o.revision, offline: o.offline });
  const tok = await loadTokenizer(weights.source.dir);
  const variant = o.variant ?? {};
  const data = loadPromptedSplits(task, o.splitDir, tok, {
    splits: ["train", ...(o.evalSplits ?? ["dev", "test"])],
    limitEval: o.limitEval,
    skipBadRows: o.skipBadRows,
    onSkip: o.onSkip,
    prompt: !variant.noPrompt,
  });
  const splits = data.splits as Record<string, EncodedExample[]>;
  const labelWordIds = data.labelWordIds;
  const binary = o.binary ?? false;
  const { weights: vw } = await variantWeights(
    weights,
    variant,
    (splits.train ?? []).map((x) => ({ input: x, label: x.label })),
    task.labels.length,
    { device: o.device, loraSeed: o.loraSeed },
  );
  const model = createPromptModel(vw, labelWordIds, { binary, device: o.device, variant });
  const memoryBytes = o.memoryBytes ?? defaultMemoryBytes();
  checkBudgetUpFront(memoryBytes, process.memoryUsage().rss);
  const loadS = (performance.now() - t0) / 1000;

  const tag = variantTag(variant);
  const modelKey = { weightsHash: tag ? `${vw.hash}|${tag}` : vw.hash, labelWordIds, binary };
  const cacheRoot = o.cacheDir === false ? undefined : (o.cacheDir ?? defaultCacheDir());
  const disk = predictJobDisk(
    vw.config,
    splits,
    model.C,
    labelWordIds.length,
    pairsFor(o.formulas.filter((f): f is Formula => (FORMULAS as readonly string[]).includes(f))).length,
  );
  const log = (m: string) => {
    if (!o.quiet) process.stderr.write(`${m}\n`);
  };
  const budget = cacheRoot ? resolveCacheBudget(cacheRoot, o.cacheMax) : undefined;
  // The job's (task, model) folder of the cache, marked in use so that a prune or clear leaves it alone meanwhile.
  const group = cacheGroup(task.name, weights.source.repoId ?? o.model, sha256(modelKey.weightsHash));
  const dirs = cacheRoot ? groupDirs(cacheRoot, group) : undefined;
  const what = `entk kernel ${task.name} --out ${o.out}`;
  const inUse =
    cacheRoot === undefined
      ? undefined
      : await useCacheGroup(cacheRoot, group, what, {
          onWait: (h) => log(`waiting for ${h.what ?? `pid ${h.pid}`} on the cache ${cacheRoot}`),
          signal: o.signal,
        });
  let meta: KernelMeta;
  try {
    const caching =
      budget &&
      factorCaching({
        requested: o.cacheFactors,
        budget,
        cacheBytes: listCacheEntries(cacheRoot as string).reduce((a, e) => a + e.bytes, 0),
        factorBytes: disk.factorBytes,
        kernelBlockBytes: disk.kernelBlockBytes,
      });
    const factorRoot = dirs && caching?.cache ? dirs.factors : undefined;
    const cacheState: CacheWriteState = { full: false, warn: (m) => process.stderr.write(`${m}\n`) };
    const source = (xs: PromptInput[]): FactorSource => {
      const src = modelFactorSource(model, xs, modelKey);
      return factorRoot ? cachedFactorSource(src, factorRoot, cacheState) : src;
    };
    const why = caching ? `: ${caching.why}` : "";
    log(
      `disk: kernel blocks ${formatBytes(disk.kernelBlockBytes)}${cacheRoot ? "" : " (not cached)"}, gradient ` +
        `factors ${formatBytes(disk.factorBytes)}${factorRoot ? ` (cached in ${factorRoot}${why})` : ` (not cached${why})`}`,
    );

    const t1 = performance.now();
    const records: Record<string, SplitRecord> = {};
    const bar = progressBar(
      "logits",
      Object.values(splits).reduce((a, s) => a + s.length, 0),
      {
        quiet: o.quiet,
        unit: "ex",
      },
    );
    for (const [name, xs] of Object.entries(splits)) {
      o.signal?.throwIfAborted();
      const logits = xs.length ? Float32Array.from(await model.logits(xs)) : new Float32Array();
      assertFiniteOutputs(logits, `initial logits f0 of the ${name} examples`, weights);
      bar.tick(xs.length);
      records[name] = {
        inputs: xs.map((x) => ({ input_ids: x.inputIds, mask_pos: x.maskPos, label: x.label })),
        logits,
      };
    }
    bar.stop();
    const logitsS = (performance.now() - t1) / 1000;

    const evalSets = Object.fromEntries(
      Object.entries(splits)
        .filter(([n]) => n !== "train")
        .map(([n, xs]) => [n, source(xs)]),
    );
    const ntk = o.formulas.filter((f): f is Formula => (FORMULAS as readonly string[]).includes(f));
    const classic = o.formulas.filter(isClassicFormula);
    const sizes = Object.fromEntries(Object.entries(splits).map(([n, xs]) => [n, xs.length]));
    const result: KernelResult = ntk.length
      ? await computeKernels(source(splits.train), evalSets, {
          formulas: ntk,
          filter: o.filter,
          memoryBytes,
          strategy: o.strategy,
          cacheDir: dirs?.kernelBlocks,
          cacheState,
          params: model.params(),
          quiet: o.quiet,
          signal: o.signal,
        })
      : {
          C: model.C,
          nTrain: splits.train.length,
          sizes,
          kernels: Object.fromEntries(Object.keys(splits).map((n) => [n, {}])),
          plan: { evalBlock: 0, trainBlock: 0, workBytes: 0, memoryBytes },
          strategy: o.strategy ?? "auto",
          timings: { gradients_s: 0, contraction_s: 0, total_s: 0 },
          blocks: { cached: 0, computed: 0 },
        };
    let classicParams: Record<string, number> | undefined;
    let classicS = 0;
    if (classic.length) {
      // Classic kernels on the frozen feature the prediction layer reads (docs/analyses.md §5).
      const t2 = performance.now();
      const feats = new Map<string, Float64Array>();
      for (const [n, xs] of Object.entries(splits))
        feats.set(n, await modelFeatures(vw, labelWordIds, xs, { variant, device: o.device }));
      const H = vw.config.hiddenSize;
      const c = classicKernels(classic, feats, H, result.C, o.classic);
      classicParams = { ...c.params };
      for (const [split, byName] of Object.entries(c.kernels)) Object.assign((result.kernels[split] ??= {}), byName);
      classicS = (performance.now() - t2) / 1000;
    }
    meta = await writeKernelOutputs(
      o.out,
      result,
      records,
      {
        task: task.name,
        template: task.template,
        label_word_ids: labelWordIds,
        binary,
        metric: task.metric,
        model: { id: weights.source.repoId ?? o.model, revision: weights.source.revision, weights_hash: vw.hash },
        flags: {
          binary,
          exclude_embeddings: !!o.filter?.excludeEmbeddings,
          exclude_head: !!o.filter?.excludeHead,
          only_biases: !!o.filter?.onlyBiases,
          eval_splits: o.evalSplits ?? ["dev", "test"],
          limit_eval: o.limitEval ?? null,
          device: o.device ?? DEFAULT_DEVICE,
          strategy: o.strategy ?? "auto",
          ...(o.jobKey ? { job: o.jobKey } : {}),
          ...(tag ? { variant } : {}),
          ...(classicParams ? { classic: classicParams } : {}),
        },
        timings: { load_s: loadS, logits_s: logitsS, ...(classic.length ? { classic_s: classicS } : {}) },
        cache: {
          blocks_cached: result.blocks.cached,
          blocks_computed: result.blocks.computed,
          factors_cached: !!factorRoot && !cacheState.full,
          predicted_factor_bytes: disk.factorBytes,
          predicted_kernel_block_bytes: disk.kernelBlockBytes,
          ...(budget ? { budget_bytes: budget.bytes } : {}),
        },
      },
      o.formulas,
    );
  } finally {
    if (inUse) inUse.release();
  }
  if (cacheRoot && budget) {
    // Down to the budget, least recently used first, across the root's groups; the ones in use stay.
    const r = await pruneCache(cacheRoot, { maxBytes: budget.bytes, what, signal: o.signal });
    for (const sk of r.skipped)
      log(
        `cache over its budget ${describeBudget(budget)}: ${formatBytes(sk.bytes)} of ${sk.group} kept, in use by ` +
          sk.users.map((u) => `pid ${u.pid}${u.what ? ` (${u.what})` : ""}`).join(", "),
      );
  }
  return meta;
}
