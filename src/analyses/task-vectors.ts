/**
 * Task vectors (docs/analyses.md §1): τ = θ_ft − θ₀ over every parameter of the base model, stored as a
 * safetensors file whose metadata names the base model's weights hash; and edited models θ₀ + Σᵢ αᵢτᵢ written as
 * Hugging Face model directories. A vector is only ever applied to the base it was taken from (same hash).
 */
import { existsSync, mkdirSync } from "node:fs";
import { parameterSpecs } from "../model/weights/params.ts";
import { readSafetensorsHeader, readTensorBytes, writeSafetensors } from "../model/weights/safetensors.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { hfCheckpointIO, tensorValues } from "../training/hf-checkpoint.ts";
import { ENTK_VERSION } from "../version.ts";

export const TASK_VECTOR_FORMAT = "entk-task-vector-v1";

export class TaskVectorError extends Error {}

export interface TaskVector {
  path: string;
  /** Weights hash of the base model θ₀ the vector was taken against. */
  baseHash: string;
  /** Where θ_ft came from (informational). */
  finetuned: string;
  tensors: Map<string, Float32Array>;
}

/**
 * τ = θ_ft − θ₀ (float32, elementwise) over the tensors `names` (default: every tensor of the base), in that order;
 * refuses a fine-tuned model that lacks one of them or holds it with another shape. The one computation of τ:
 * `writeTaskVector` stores it; `taskVector` takes it over the parameters f reads (post-hoc linearization,
 * docs/linearization.md).
 */
export function taskVectorTensors(
  base: LoadedWeights,
  finetuned: LoadedWeights,
  what: string,
  names: Iterable<string> = base.tensors.keys(),
): Map<string, Float32Array> {
  const tau = new Map<string, Float32Array>();
  for (const name of names) {
    const ref = base.tensors.get(name);
    const o = finetuned.tensors.get(name);
    if (!ref) throw new TaskVectorError(`base model ${base.source.dir} lacks parameter ${name}`);
    if (!o) throw new TaskVectorError(`${what} lacks parameter ${name} of the base model ${base.source.dir}`);
    if (o.shape.join(",") !== ref.shape.join(","))
      throw new TaskVectorError(`${what}: ${name} has shape [${o.shape}], the base model's is [${ref.shape}]`);
    const t0 = tensorValues(ref);
    const t1 = tensorValues(o);
    const d = new Float32Array(t0.length);
    for (let i = 0; i < d.length; i++) d[i] = t1[i] - t0[i];
    tau.set(name, d);
  }
  return tau;
}

/** τ = θ_ckpt − θ₀ over the parameters the prompt model f reads (parameterSpecs), as post-hoc linearization uses it. */
export function taskVector(base: LoadedWeights, ckpt: LoadedWeights, where = "checkpoint"): Map<string, Float32Array> {
  return taskVectorTensors(
    base,
    ckpt,
    where,
    parameterSpecs(base.config).map((s) => s.name),
  );
}

/** τ = θ_ft − θ₀ over every tensor of the base, written atomically to `out` with the base hash in its metadata. */
export async function writeTaskVector(
  base: LoadedWeights,
  finetuned: LoadedWeights,
  out: string,
): Promise<{ path: string; params: number; norm: number }> {
  const tau = taskVectorTensors(base, finetuned, `fine-tuned model ${finetuned.source.dir}`);
  let sq = 0;
  let params = 0;
  const tensors = [...tau].map(([name, d]) => {
    for (const x of d) sq += x * x;
    params += d.length;
    return { name, shape: base.tensors.get(name)!.shape, data: d };
  });
  await writeSafetensors(out, tensors, {
    format: TASK_VECTOR_FORMAT,
    base_weights_hash: base.hash,
    finetuned: finetuned.source.repoId ?? finetuned.source.dir,
    entk_version: ENTK_VERSION,
  });
  return { path: out, params, norm: Math.sqrt(sq) };
}

/** Read a task vector file (F32 tensors), checking its format marker. */
export function readTaskVector(path: string): TaskVector {
  if (!existsSync(path)) throw new TaskVectorError(`${path}: no such task vector file`);
  const h = readSafetensorsHeader(path);
  if (h.metadata.format !== TASK_VECTOR_FORMAT || !h.metadata.base_weights_hash)
    throw new TaskVectorError(
      `${path}: not an entk task vector (metadata format "${h.metadata.format ?? ""}", expected "${TASK_VECTOR_FORMAT}" with base_weights_hash)`,
    );
  const tensors = new Map<string, Float32Array>();
  for (const e of h.entries) {
    if (e.dtype !== "F32") throw new TaskVectorError(`${path}: tensor ${e.name} is ${e.dtype}, expected F32`);
    const b = readTensorBytes(e, path);
    tensors.set(e.name, new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4));
  }
  return { path, baseHash: h.metadata.base_weights_hash, finetuned: h.metadata.finetuned ?? "", tensors };
}

/** Refuse vectors taken against another base model, and vectors that do not cover the base's parameters. */
export function checkVectors(base: LoadedWeights, vectors: readonly TaskVector[]): void {
  for (const v of vectors) {
    if (v.baseHash !== base.hash)
      throw new TaskVectorError(
        `${v.path}: taken against base weights ${v.baseHash.slice(0, 12)}…, but ${base.source.dir} has ${base.hash.slice(0, 12)}… (a task vector only applies to its own base model)`,
      );
    for (const [name, ref] of base.tensors) {
      const t = v.tensors.get(name);
      const n = ref.shape.reduce((a, b) => a * b, 1);
      if (!t || t.length !== n) throw new TaskVectorError(`${v.path}: parameter ${name} missing or of the wrong size`);
    }
  }
}

/** θ₀ + Σᵢ αᵢτᵢ for every parameter of the base (float32: each term added in order, as written). */
export function combine(
  base: LoadedWeights,
  vectors: readonly TaskVector[],
  alphas: readonly number[],
): Map<string, Float32Array> {
  if (vectors.length !== alphas.length)
    throw new TaskVectorError(`${vectors.length} task vectors but ${alphas.length} coefficients α`);
  checkVectors(base, vectors);
  const out = new Map<string, Float32Array>();
  for (const [name, ref] of base.tensors) {
    const p = Float32Array.from(tensorValues(ref));
    vectors.forEach((v, k) => {
      const t = v.tensors.get(name)!;
      const a = alphas[k];
      for (let i = 0; i < p.length; i++) p[i] += a * t[i];
    });
    out.set(name, p);
  }
  return out;
}

/** Write θ₀ + Σᵢ αᵢτᵢ as a Hugging Face model directory (config and tokenizer files from the base). */
export async function applyTaskVectors(
  base: LoadedWeights,
  vectors: readonly TaskVector[],
  alphas: readonly number[],
  outDir: string,
): Promise<void> {
  const params = combine(base, vectors, alphas);
  mkdirSync(outDir, { recursive: true });
  await hfCheckpointIO(base).save(outDir, params);
}
