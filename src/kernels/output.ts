import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type MetricName, metricForTask } from "../data/metrics.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { type DirManifest, dirManifest, writeDirAtomic } from "../util/atomic-dir.ts";
import { readNpy, writeNpy } from "../util/npy.ts";
import { ENTK_VERSION } from "../version.ts";
import type { KernelResult } from "./compute.ts";
import type { KernelName, Strategy } from "./types.ts";

/**
 * The files of a kernel directory (README "Kernel output layout"), named here only: writers and readers (the
 * solvers' included) take the paths from these.
 */
export const kernelDirFile = {
  meta: (dir: string) => join(dir, "meta.json"),
  inputs: (dir: string, split: string) => join(dir, `inputs.${split}.jsonl`),
  logits: (dir: string, split: string) => join(dir, `logits.${split}.npy`),
  labels: (dir: string, split: string) => join(dir, `labels.${split}.npy`),
  /** `name` is a formula, or a formula with the suffix `_flipped` (asymmetric_signgd's second kernel). */
  kernel: (dir: string, name: string, split: string) => join(dir, `kernel.${name}.${split}.npy`),
};

/** One split's examples as recorded next to its kernels. */
export interface SplitRecord {
  /** Tokenized prompts (no padding) with the <mask> index, and the label index. */
  inputs: { input_ids: number[]; mask_pos: number; label: number }[];
  /** Initial outputs f0: float32 [n, C]. */
  logits: Float32Array;
}

/** The options a kernel run was asked for (snake_case, as the rest of meta.json), whoever ran it. */
export interface KernelRunFlags {
  binary: boolean;
  exclude_embeddings: boolean;
  exclude_head: boolean;
  only_biases: boolean;
  eval_splits: string[];
  /** Eval examples kept per split (a seeded subsample), null for all. */
  limit_eval: number | null;
  device: string;
  strategy: Strategy;
  /** The sweep job the run belongs to (its content key), when a sweep ran it. */
  job?: string;
  /** No-prompt and/or LoRA (docs/no-prompt-and-lora.md); absent for the prompt MLM. */
  variant?: { noPrompt?: boolean; lora?: { r: number; alpha: number; targets: string[] } };
}

/** Run description stored in meta.json besides what the kernel result itself provides. */
export interface KernelMetaInput {
  task: string;
  template: string;
  label_word_ids: number[];
  binary: boolean;
  /** The task's dev/test metric (docs/protocol.md §1.2), read back by the solvers. */
  metric: MetricName;
  model: { id: string; revision?: string; weights_hash: string };
  /** The options the run was asked for; what it then used is `plan`. */
  flags: Partial<KernelRunFlags>;
  /** Extra timings (e.g. model loading) merged with the kernel phases'. */
  timings?: Record<string, number>;
  /** Kernel blocks read from the cache vs computed in this run. */
  cache?: {
    blocks_cached: number;
    blocks_computed: number;
    /** Whether gradient factors were cached (and the disk did not fill up), and the predicted sizes (disk.ts). */
    factors_cached?: boolean;
    predicted_factor_bytes?: number;
    predicted_kernel_block_bytes?: number;
    /** The cache budget the job pruned the cache to (src/kernels/cache-budget.ts). */
    budget_bytes?: number;
  };
}

export interface KernelMeta extends KernelMetaInput {
  formulas: string[];
  kernels: KernelName[];
  splits: Record<string, number>;
  n_train: number;
  C: number;
  grad_dim: number | null;
  entk_version: string;
  timings: Record<string, number>;
  /** The plan the kernels were computed with: the memory budget (a default resolved), block sizes, strategy. */
  plan: { memory_bytes: number; eval_block: number; train_block: number; work_bytes: number; strategy: Strategy };
  /** Files are [n_train, C, n_split, C]; see the README section "Kernel output layout". */
  layout: string;
  /** Size and SHA-256 of every other file of the directory (readers verify them: README "Guarantees"). */
  files?: DirManifest;
}

/**
 * Write the kernel output directory (README "Kernel output layout"): inputs.<split>.jsonl, logits.<split>.npy,
 * labels.<split>.npy, kernel.<name>.<split>.npy and, last, meta.json with every file's size and checksum. The
 * directory is replaced as a whole (util/atomic-dir.ts): a reader never sees old and new files mixed.
 */
export async function writeKernelOutputs(
  outDir: string,
  result: KernelResult,
  splits: Record<string, SplitRecord>,
  metaIn: KernelMetaInput,
  formulas: readonly string[],
): Promise<KernelMeta> {
  return writeDirAtomic(outDir, (tmp) => writeKernelFiles(tmp, result, splits, metaIn, formulas));
}

async function writeKernelFiles(
  outDir: string,
  result: KernelResult,
  splits: Record<string, SplitRecord>,
  metaIn: KernelMetaInput,
  formulas: readonly string[],
): Promise<KernelMeta> {
  const C = result.C;
  const names = new Set<KernelName>();
  const files: string[] = [];
  for (const [split, n] of Object.entries(result.sizes)) {
    const rec = splits[split];
    if (!rec) throw new Error(`writeKernelOutputs: no inputs/logits given for split "${split}"`);
    if (rec.inputs.length !== n || rec.logits.length !== n * C)
      throw new Error(
        `writeKernelOutputs: split "${split}" has ${n} kernel columns but ${rec.inputs.length} inputs and ` +
          `${rec.logits.length / C} logit rows`,
      );
    files.push(
      ...[kernelDirFile.inputs, kernelDirFile.logits, kernelDirFile.labels].map((f) => basename(f("", split))),
    );
    await writeFileAtomic(
      kernelDirFile.inputs(outDir, split),
      rec.inputs
        .map((x) => JSON.stringify({ input_ids: x.input_ids, mask_pos: x.mask_pos, label: x.label }))
        .join("\n") + (n > 0 ? "\n" : ""),
    );
    await writeNpy(kernelDirFile.logits(outDir, split), rec.logits, [n, C]);
    await writeNpy(
      kernelDirFile.labels(outDir, split),
      Int32Array.from(rec.inputs, (x) => x.label),
      [n],
    );
    for (const [name, K] of Object.entries(result.kernels[split]) as [KernelName, Float64Array][]) {
      names.add(name);
      files.push(basename(kernelDirFile.kernel("", name, split)));
      await writeNpy(kernelDirFile.kernel(outDir, name, split), K, [result.nTrain, C, n, C]);
    }
  }
  const meta: KernelMeta = {
    ...metaIn,
    formulas: [...formulas],
    kernels: [...names],
    splits: result.sizes,
    n_train: result.nTrain,
    C,
    grad_dim: result.gradDim ?? null,
    entk_version: ENTK_VERSION,
    timings: { ...metaIn.timings, ...result.timings },
    plan: {
      memory_bytes: result.plan.memoryBytes,
      eval_block: result.plan.evalBlock,
      train_block: result.plan.trainBlock,
      work_bytes: result.plan.workBytes,
      strategy: result.strategy,
    },
    layout: "kernel.<name>.<split>.npy: float64 [n_train, C, n_split, C]; K[i,c,j,c'] = <g_c(train i), g_c'(split j)>",
    files: dirManifest(outDir, files),
  };
  await writeFileAtomic(kernelDirFile.meta(outDir), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/**
 * What a reader can rely on in a kernel directory's meta.json: the fields the solvers need, checked against each
 * other, and `metric` (directories written before it was recorded get the task name's metric, metricForTask). The
 * rest is as written.
 */
export type StoredKernelMeta = Partial<KernelMeta> &
  Pick<KernelMeta, "label_word_ids" | "binary" | "C" | "metric"> & { task?: string };

/** Check a parsed meta.json (`path` prefixes every message). */
export function parseKernelMeta(v: unknown, path: string): StoredKernelMeta {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${path}: expected a JSON object`);
  const meta = v as Record<string, unknown>;
  const binary = meta.binary === true;
  const lw = meta.label_word_ids;
  if (!Array.isArray(lw) || lw.length < 2 || !lw.every((x) => Number.isInteger(x)))
    throw new Error(`${path}: "label_word_ids" must be an array of at least 2 integers`);
  if (binary && lw.length !== 2) throw new Error(`${path}: binary mode needs exactly 2 label words, got ${lw.length}`);
  const C = binary ? 1 : lw.length;
  if (meta.C !== undefined && meta.C !== C)
    throw new Error(
      `${path}: "C" is ${JSON.stringify(meta.C)} but ${lw.length} label words${binary ? " in binary mode" : ""} mean C = ${C}`,
    );
  const task = typeof meta.task === "string" ? meta.task : undefined;
  let metric: MetricName;
  try {
    metric = metricForTask(task, meta.metric);
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ...meta, task, label_word_ids: lw as number[], binary, C, metric };
}

/** Read meta.json of a kernel directory (throws naming the file when absent, i.e. the run did not finish). */
export function readKernelMeta(dir: string): StoredKernelMeta {
  const path = kernelDirFile.meta(dir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: cannot read kernel metadata (${(err as Error).message}); was \`entk kernel\` finished?`);
  }
  return parseKernelMeta(raw, path);
}

/** Load one kernel: float64 [n_train, C, n_split, C]. */
export function readKernel(dir: string, name: KernelName, split: string): { shape: number[]; data: Float64Array } {
  const path = kernelDirFile.kernel(dir, name, split);
  const a = readNpy(path);
  if (a.dtype !== "float64" || a.shape.length !== 4) throw new Error(`${path}: expected float64 [n_train, C, n, C]`);
  return { shape: a.shape, data: a.data as Float64Array };
}
