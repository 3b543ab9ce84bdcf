import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { type DirManifest, dirManifest, writeDirAtomic } from "../util/atomic-dir.ts";
import { readNpy, writeNpy } from "../util/npy.ts";
import { ENTK_VERSION } from "../version.ts";
import type { KernelResult } from "./compute.ts";
import type { KernelName } from "./types.ts";

/** One split's examples as recorded next to its kernels. */
export interface SplitRecord {
  /** Tokenized prompts (no padding) with the <mask> index, and the label index. */
  inputs: { input_ids: number[]; mask_pos: number; label: number }[];
  /** Initial outputs f0: float32 [n, C]. */
  logits: Float32Array;
}

/** Run description stored in meta.json besides what the kernel result itself provides. */
export interface KernelMetaInput {
  task: string;
  template: string;
  label_word_ids: number[];
  binary: boolean;
  model: { id: string; revision?: string; weights_hash: string };
  /** The command-line flags (parameter subsets, memory, strategy, ...). */
  flags: Record<string, unknown>;
  /** Extra timings (e.g. model loading) merged with the kernel phases'. */
  timings?: Record<string, number>;
  /** Kernel blocks read from the cache vs computed in this run. */
  cache?: { blocks_cached: number; blocks_computed: number };
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
    files.push(`inputs.${split}.jsonl`, `logits.${split}.npy`, `labels.${split}.npy`);
    await writeFileAtomic(
      join(outDir, `inputs.${split}.jsonl`),
      rec.inputs
        .map((x) => JSON.stringify({ input_ids: x.input_ids, mask_pos: x.mask_pos, label: x.label }))
        .join("\n") + (n > 0 ? "\n" : ""),
    );
    await writeNpy(join(outDir, `logits.${split}.npy`), rec.logits, [n, C]);
    await writeNpy(
      join(outDir, `labels.${split}.npy`),
      Int32Array.from(rec.inputs, (x) => x.label),
      [n],
    );
    for (const [name, K] of Object.entries(result.kernels[split]) as [KernelName, Float64Array][]) {
      names.add(name);
      files.push(`kernel.${name}.${split}.npy`);
      await writeNpy(join(outDir, `kernel.${name}.${split}.npy`), K, [result.nTrain, C, n, C]);
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
    layout: "kernel.<name>.<split>.npy: float64 [n_train, C, n_split, C]; K[i,c,j,c'] = <g_c(train i), g_c'(split j)>",
    files: dirManifest(outDir, files),
  };
  await writeFileAtomic(join(outDir, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/** Read meta.json of a kernel directory (throws naming the file when absent, i.e. the run did not finish). */
export function readKernelMeta(dir: string): KernelMeta {
  const path = join(dir, "meta.json");
  try {
    return JSON.parse(readFileSync(path, "utf8")) as KernelMeta;
  } catch (err) {
    throw new Error(`${path}: cannot read kernel metadata (${(err as Error).message}); was \`entk kernel\` finished?`);
  }
}

/** Load one kernel: float64 [n_train, C, n_split, C]. */
export function readKernel(dir: string, name: KernelName, split: string): { shape: number[]; data: Float64Array } {
  const path = join(dir, `kernel.${name}.${split}.npy`);
  const a = readNpy(path);
  if (a.dtype !== "float64" || a.shape.length !== 4) throw new Error(`${path}: expected float64 [n_train, C, n, C]`);
  return { shape: a.shape, data: a.data as Float64Array };
}
