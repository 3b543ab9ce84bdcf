import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy } from "../../src/util/npy.ts";
import { rng } from "./helpers.ts";

export interface SyntheticDir {
  dir: string;
  /** Per split: features [n·C, d] (row i·C + c), labels, logits [n·C]. */
  feats: Record<string, Float64Array>;
  labels: Record<string, Int32Array>;
  logits: Record<string, Float32Array>;
  n: Record<string, number>;
  C: number;
  d: number;
}

/**
 * A small kernel directory in the `entk kernel` layout built from random features: K[train, split] = G_train G_splitᵀ
 * reshaped to [n_train, C, n_split, C]. For asymmetric_signgd the "sign side" uses separate features S:
 * plain = S_train G_splitᵀ, flipped = G_train S_splitᵀ (so flipped[train, train] = plainᵀ).
 */
export function writeSyntheticKernelDir(opts: {
  binary: boolean;
  numLabels: number;
  n: { train: number; dev?: number; test?: number };
  d?: number;
  task?: string;
  formulas?: string[];
  seed?: number;
  labels?: Partial<Record<"train" | "dev" | "test", number[]>>;
}): SyntheticDir {
  const dir = mkdtempSync(join(tmpdir(), "entk-solvers-"));
  mkdirSync(dir, { recursive: true });
  const C = opts.binary ? 1 : opts.numLabels;
  const d = opts.d ?? 16;
  const r = rng(opts.seed ?? 7);
  const formulas = opts.formulas ?? ["sgd"];
  const splits = (["train", "dev", "test"] as const).filter((s) => opts.n[s] !== undefined);
  const n: Record<string, number> = {};
  const feats: Record<string, Float64Array> = {};
  const signFeats: Record<string, Float64Array> = {};
  const labels: Record<string, Int32Array> = {};
  const logits: Record<string, Float32Array> = {};
  for (const s of splits) {
    n[s] = opts.n[s]!;
    feats[s] = Float64Array.from({ length: n[s] * C * d }, r);
    signFeats[s] = Float64Array.from(feats[s], (v, i) => Math.sign(v) * 0.3 + 0.1 * Math.cos(i));
    labels[s] = Int32Array.from(
      opts.labels?.[s] ?? Array.from({ length: n[s] }, (_, i) => (i * 7 + 3) % opts.numLabels),
    );
    logits[s] = Float32Array.from({ length: n[s] * C }, r);
    writeFileSync(join(dir, `labels.${s}.npy`), encodeNpy(labels[s], [n[s]]));
    writeFileSync(join(dir, `logits.${s}.npy`), encodeNpy(logits[s], [n[s], C]));
  }
  const gram = (A: Float64Array, B: Float64Array, rows: number, cols: number) => {
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += A[i * d + k] * B[j * d + k];
        out[i * cols + j] = s;
      }
    return out;
  };
  const P = n.train * C;
  for (const f of formulas)
    for (const s of splits) {
      const shape = [n.train, C, n[s], C];
      const Q = n[s] * C;
      if (f === "asymmetric_signgd") {
        writeFileSync(join(dir, `kernel.${f}.${s}.npy`), encodeNpy(gram(signFeats.train, feats[s], P, Q), shape));
        writeFileSync(
          join(dir, `kernel.${f}_flipped.${s}.npy`),
          encodeNpy(gram(feats.train, signFeats[s], P, Q), shape),
        );
      } else writeFileSync(join(dir, `kernel.${f}.${s}.npy`), encodeNpy(gram(feats.train, feats[s], P, Q), shape));
    }
  const meta = {
    label_word_ids: Array.from({ length: opts.numLabels }, (_, i) => 100 + i),
    binary: opts.binary,
    formulas,
    task: opts.task ?? "SST-2",
  };
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
  return { dir, feats, labels, logits, n, C, d };
}
