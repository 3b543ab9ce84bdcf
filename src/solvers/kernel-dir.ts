import { existsSync } from "node:fs";
import type { MetricName } from "../data/metrics.ts";
import { kernelDirFile, readKernelMeta, type StoredKernelMeta } from "../kernels/output.ts";
import { type DirManifest, verifyDirManifest } from "../util/atomic-dir.ts";
import { readNpy } from "../util/npy.ts";
import { assertFinite, type Mat, mat } from "./matrix.ts";

/** Splits a kernel directory may hold (train is required). */
export const SPLITS = ["train", "dev", "test"] as const;
export type SplitName = (typeof SPLITS)[number];

/** One split of a kernel directory, reshaped as the solvers see it (docs/protocol.md §5 "Reshape before solving"). */
export interface SolverSplit {
  name: SplitName;
  /** Number of examples in the split. */
  n: number;
  /** The train→split kernel as a (n_train·C)×(n·C) matrix (row i·C + a, column j·C + b). */
  K: Mat;
  /** The flipped kernel ⟨sign g(split), g(train)⟩, same layout; present for asymmetric_signgd. */
  Kflipped?: Mat;
  labels: Int32Array;
  /** Initial outputs f0 flattened to n·C (binary: f1 − f0); absent when `logits.<split>.npy` is missing. */
  f0?: Float64Array;
}

export interface SolverInputs {
  dir: string;
  meta: StoredKernelMeta;
  task?: string;
  formula: string;
  binary: boolean;
  /** Outputs per example: 1 in binary mode, else the number of label words. */
  C: number;
  /** Number of label classes (label indices are in [0, numLabels)). */
  numLabels: number;
  metric: MetricName;
  splits: Partial<Record<SplitName, SolverSplit>>;
}

const FLIPPED_SUFFIX = "_flipped";

function readArray(path: string, what: string): { shape: number[]; data: ArrayLike<number> } {
  if (!existsSync(path)) throw new Error(`${path}: missing (expected ${what})`);
  const a = readNpy(path);
  if (a.data instanceof BigInt64Array) return { shape: a.shape, data: Array.from(a.data, Number) };
  return { shape: a.shape, data: a.data as ArrayLike<number> };
}

function shapeStr(s: number[]): string {
  return `[${s.join(", ")}]`;
}

function readKernel(path: string, nTrain: number, C: number, trainPath: string): { K: Mat; n: number } {
  const { shape, data } = readArray(path, `a float64 kernel [n_train, C, n_split, C] with C = ${C}`);
  if (shape.length !== 4 || shape[1] !== C || shape[3] !== C)
    throw new Error(`${path}: shape ${shapeStr(shape)}, expected [n_train, ${C}, n_split, ${C}] (C = ${C})`);
  if (nTrain >= 0 && shape[0] !== nTrain)
    throw new Error(`${path}: shape ${shapeStr(shape)} has ${shape[0]} train rows but ${trainPath} has ${nTrain}`);
  assertFinite(data, path);
  return { K: mat(shape[0] * C, shape[2] * C, Float64Array.from(data)), n: shape[2] };
}

/**
 * Read a kernel directory written by `entk kernel` for one formula, validating every shape against the others.
 * `needFlipped` requires `kernel.<formula>_flipped.<split>.npy`; `needLogits` requires `logits.<split>.npy`.
 */
export function readSolverInputs(
  dir: string,
  formula: string,
  opts: { needFlipped?: boolean; needLogits?: boolean } = {},
): SolverInputs {
  const metaPath = kernelDirFile.meta(dir);
  if (!existsSync(metaPath))
    throw new Error(`${metaPath}: missing (expected the meta.json written by \`entk kernel\`)`);
  const meta = readKernelMeta(dir);
  if (meta.files) verifyDirManifest(dir, meta.files as DirManifest, "`entk kernel`");
  const { binary, C, task, metric } = meta;
  if (Array.isArray(meta.formulas) && !meta.formulas.includes(formula))
    throw new Error(`${metaPath}: formula "${formula}" was not computed (formulas: ${meta.formulas.join(", ")})`);
  const numLabels = meta.label_word_ids.length;

  const trainKernelPath = kernelDirFile.kernel(dir, formula, "train");
  if (!existsSync(trainKernelPath))
    throw new Error(`${trainKernelPath}: missing (expected the train–train kernel of "${formula}")`);
  let nTrain = -1;

  const splits: Partial<Record<SplitName, SolverSplit>> = {};
  for (const name of SPLITS) {
    const kPath = kernelDirFile.kernel(dir, formula, name);
    if (name !== "train" && !existsSync(kPath)) continue;
    const { K, n } = readKernel(kPath, nTrain, C, trainKernelPath);
    if (name === "train") {
      nTrain = K.rows / C;
      if (n !== nTrain)
        throw new Error(`${kPath}: train–train kernel must have n_split = n_train, got ${n} ≠ ${nTrain}`);
    }
    if (n === 0) continue; // an empty eval split has nothing to predict
    const split: SolverSplit = { name, n, K, labels: readLabels(dir, name, n, numLabels, kPath) };
    const fPath = kernelDirFile.kernel(dir, `${formula}${FLIPPED_SUFFIX}`, name);
    if (opts.needFlipped || existsSync(fPath)) {
      const f = readKernel(fPath, nTrain, C, trainKernelPath);
      if (f.n !== n) throw new Error(`${fPath}: ${f.n} ${name} examples but ${kPath} has ${n}`);
      split.Kflipped = f.K;
    }
    const lPath = kernelDirFile.logits(dir, name);
    if (opts.needLogits || existsSync(lPath)) split.f0 = readLogits(lPath, n, C, binary, kPath);
    splits[name] = split;
  }
  return { dir, meta, task, formula, binary, C, numLabels, metric, splits };
}

function readLabels(dir: string, split: SplitName, n: number, numLabels: number, kPath: string): Int32Array {
  const path = kernelDirFile.labels(dir, split);
  const { shape, data } = readArray(path, `int32 labels [${n}]`);
  if (shape.length !== 1 || shape[0] !== n)
    throw new Error(`${path}: shape ${shapeStr(shape)}, expected [${n}] to match ${kPath}`);
  const labels = Int32Array.from(data);
  labels.forEach((l, i) => {
    if (!(l >= 0 && l < numLabels) || l !== data[i])
      throw new Error(`${path}: entry ${i} is ${data[i]}, expected a label index in [0, ${numLabels})`);
  });
  return labels;
}

/** f0 as [n·C]; binary mode accepts [n], [n, 1] (already f1 − f0) or [n, 2] (turned into f1 − f0). */
function readLogits(path: string, n: number, C: number, binary: boolean, kPath: string): Float64Array {
  const { shape, data } = readArray(path, `float32 initial logits [${n}, ${C}]`);
  assertFinite(data, path);
  const ok =
    shape[0] === n &&
    ((shape.length === 2 && shape[1] === C) || (binary && shape.length === 1) || (binary && shape[1] === 2));
  if (!ok || shape.length > 2)
    throw new Error(`${path}: shape ${shapeStr(shape)}, expected [${n}, ${C}] to match ${kPath}`);
  if (binary && shape.length === 2 && shape[1] === 2)
    return Float64Array.from({ length: n }, (_, i) => data[2 * i + 1] - data[2 * i]);
  return Float64Array.from(data);
}
