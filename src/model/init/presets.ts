import type { ModelConfig } from "../weights/types.ts";

export const ARCHS = ["roberta", "bert"] as const;
export type Arch = (typeof ARCHS)[number];
export const PRESETS = ["tiny", "small", "roberta-base-shape"] as const;
export type Preset = (typeof PRESETS)[number];

/**
 * Model sizes for `entk model init`. tiny/small take their vocabulary size from the synthetic tokenizer;
 * roberta-base-shape has the exact shape (and cost) of roberta-base — with --arch bert, of bert-base-uncased.
 * Positions: 514 (RoBERTa, ids start at pad + 1 = 2) / 512 (BERT) in every preset, so any 512-token prompt fits.
 */
export function presetConfig(arch: Arch, preset: Preset, tokenizerVocabSize: number): ModelConfig {
  const roberta = arch === "roberta";
  const family = {
    modelType: arch,
    maxPositionEmbeddings: roberta ? 514 : 512,
    typeVocabSize: roberta ? 1 : 2,
    layerNormEps: roberta ? 1e-5 : 1e-12,
    padTokenId: roberta ? 1 : 0,
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
  };
  switch (preset) {
    case "tiny":
      return {
        ...family,
        vocabSize: tokenizerVocabSize,
        hiddenSize: 16,
        numHiddenLayers: 2,
        numAttentionHeads: 2,
        intermediateSize: 32,
      };
    case "small":
      return {
        ...family,
        vocabSize: tokenizerVocabSize,
        hiddenSize: 64,
        numHiddenLayers: 4,
        numAttentionHeads: 4,
        intermediateSize: 256,
      };
    case "roberta-base-shape":
      return {
        ...family,
        vocabSize: roberta ? 50265 : 30522,
        hiddenSize: 768,
        numHiddenLayers: 12,
        numAttentionHeads: 12,
        intermediateSize: 3072,
      };
  }
}

/** Vocabulary size the tokenizer must be padded to for this preset (undefined: use the tokenizer's own). */
export function presetVocabSize(arch: Arch, preset: Preset): number | undefined {
  return preset === "roberta-base-shape" ? (arch === "roberta" ? 50265 : 30522) : undefined;
}
