/**
 * Weights of the model variants (src/model/variant.ts): the base weights plus in-memory tensors (the no-prompt
 * classifier, LoRA adapters), with a content hash that covers the added tensors; seeded LoRA initialization; and
 * merging adapters into the base weights (W + (α/r)·B·A). Math: docs/no-prompt-and-lora.md.
 */
import { createHash } from "node:crypto";
import { readTensor } from "./arch/prompt-graph.ts";
import { TensorRng } from "./init/rng.ts";
import { type LoraSpec, loraNames, loraSites } from "./variant.ts";
import { modelNames } from "./weights/params.ts";
import type { LoadedWeights, TensorRef } from "./weights/types.ts";

export interface NewTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * The weights with `extra` tensors added (or replacing same-named ones), held in memory. The hash covers the base
 * hash and every added tensor's name, shape and bytes, so caches keyed by it tell variants apart.
 */
export function withTensors(weights: LoadedWeights, extra: NewTensor[]): LoadedWeights {
  const tensors = new Map(weights.tensors);
  const h = createHash("sha256").update(`entk-variant-v1|${weights.hash}`);
  for (const t of extra) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.shape}]`);
    tensors.set(t.name, { name: t.name, shape: t.shape.slice(), data: t.data });
    h.update(`|${t.name}|${t.shape.join(",")}|`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return { ...weights, tensors, hash: h.digest("hex") };
}

/**
 * LoRA adapters as loralib initializes them: A ~ Kaiming-uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in)
 * (fan_in = A's input size), and B = 0. A's values come from xoshiro128** seeded by (seed, tensor name).
 */
export function initLoraTensors(weights: LoadedWeights, spec: LoraSpec, seed: number): NewTensor[] {
  checkLoraSpec(spec);
  const cfg = weights.config;
  return loraSites(modelNames(cfg), cfg, spec).flatMap((s) => {
    const n = loraNames(s.weight);
    const rng = new TensorRng(seed, n.A);
    const bound = 1 / Math.sqrt(s.dIn);
    const A = new Float32Array(spec.r * s.dIn);
    for (let i = 0; i < A.length; i++) A[i] = (2 * rng.uniform() - 1) * bound;
    return [
      { name: n.A, shape: [spec.r, s.dIn], data: A },
      { name: n.B, shape: [s.dOut, spec.r], data: new Float32Array(s.dOut * spec.r) },
    ];
  });
}

export function checkLoraSpec(spec: LoraSpec): void {
  if (!Number.isInteger(spec.r) || spec.r < 1) throw new Error(`LoRA rank r must be an integer >= 1, got ${spec.r}`);
  if (!(spec.alpha > 0) || !Number.isFinite(spec.alpha)) throw new Error(`LoRA alpha must be > 0, got ${spec.alpha}`);
  if (spec.targets.length === 0) throw new Error("LoRA needs at least one target (query, value)");
}

/** The base weights with LoRA adapters added; adapters already in `weights` (a LoRA checkpoint) are kept. */
export function withLora(weights: LoadedWeights, spec: LoraSpec, seed: number): LoadedWeights {
  const fresh = initLoraTensors(weights, spec, seed).filter((t) => {
    const have = weights.tensors.get(t.name);
    if (!have) return true;
    if (have.shape.join(",") !== t.shape.join(","))
      throw new Error(`${t.name} has shape [${have.shape}], LoRA r = ${spec.r} needs [${t.shape}]`);
    return false;
  });
  return fresh.length ? withTensors(weights, fresh) : weights;
}

/** W + (α/r)·B·A for every adapted projection: the tensors that replace the base weights (adapters dropped). */
export function mergeLora(weights: LoadedWeights, spec: LoraSpec): NewTensor[] {
  checkLoraSpec(spec);
  const scale = spec.alpha / spec.r;
  const cfg = weights.config;
  const get = (name: string): TensorRef => {
    const t = weights.tensors.get(name);
    if (!t) throw new Error(`LoRA merge: the weights lack ${name}`);
    return t;
  };
  return loraSites(modelNames(cfg), cfg, spec).map((s) => {
    const n = loraNames(s.weight);
    const W = Float32Array.from(readTensor(get(s.weight)));
    const A = readTensor(get(n.A));
    const B = readTensor(get(n.B));
    const r = spec.r;
    if (A.length !== r * s.dIn || B.length !== s.dOut * r)
      throw new Error(`LoRA merge: ${n.A} / ${n.B} do not have rank ${r}`);
    for (let o = 0; o < s.dOut; o++)
      for (let i = 0; i < s.dIn; i++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += B[o * r + k] * A[k * s.dIn + i];
        W[o * s.dIn + i] += scale * acc;
      }
    return { name: s.weight, shape: [s.dOut, s.dIn], data: W };
  });
}
