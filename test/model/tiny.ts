/** Tiny random RoBERTa/BERT weights in memory (the loader on the weights branch produces the same type). */
import { parameterSpecs } from "../../src/model/weights/params.ts";
import type { LoadedWeights, ModelConfig, TensorRef } from "../../src/model/weights/types.ts";
import { rand } from "./graph/harness.ts";

export function tinyConfig(arch: "roberta" | "bert", over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    modelType: arch,
    vocabSize: 40,
    hiddenSize: 8,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 16,
    maxPositionEmbeddings: 24,
    typeVocabSize: arch === "roberta" ? 1 : 2,
    layerNormEps: arch === "roberta" ? 1e-5 : 1e-12,
    padTokenId: arch === "roberta" ? 1 : 0,
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
    ...over,
  };
}

/** Random weights: matrices uniform(−s, s), LayerNorm γ ≈ 1 ± 0.3, biases ±0.3. Extra tensors may be added. */
export function tinyWeights(config: ModelConfig, seed = 1, extra: Record<string, number[]> = {}): LoadedWeights {
  const tensors = new Map<string, TensorRef>();
  let k = 0;
  const specs = parameterSpecs(config).map((s): [string, number[]] => [s.name, s.shape]);
  for (const [name, shape] of [...specs, ...Object.entries(extra)]) {
    const n = shape.reduce((p, v) => p * v, 1);
    const isNormW = /LayerNorm\.weight$|layer_norm\.weight$/.test(name);
    const scale = shape.length === 2 ? 0.6 : 0.3;
    const r = rand(n, seed * 1000 + ++k, scale);
    const data = Float32Array.from(r, (v) => (isNormW ? 1 + v : v));
    tensors.set(name, { name, shape, data });
  }
  return {
    config,
    tensors,
    hash: `tiny-${config.modelType}-${seed}-${Object.keys(extra).join(",")}`,
    source: { dir: "(memory)" },
  };
}

/** Copy of the weights with one parameter replaced (float32 values). */
export function withParam(w: LoadedWeights, name: string, data: Float32Array, tag: string): LoadedWeights {
  const tensors = new Map(w.tensors);
  const ref = w.tensors.get(name)!;
  tensors.set(name, { ...ref, data });
  return { ...w, tensors, hash: `${w.hash}|${tag}` };
}

export function randomInputs(config: ModelConfig, n: number, seed: number, minLen = 3, maxLen = 9) {
  const r = rand(3 * n, seed);
  return Array.from({ length: n }, (_, i) => {
    const T = minLen + Math.floor(((r[3 * i] + 1) / 2) * (maxLen - minLen + 1));
    const ids = rand(T, seed * 7 + i).map((v) => 2 + Math.floor(((v + 1) / 2) * (config.vocabSize - 3)));
    const maskPos = Math.floor(((r[3 * i + 1] + 1) / 2) * T) % T;
    return { inputIds: Array.from(ids), maskPos };
  });
}
