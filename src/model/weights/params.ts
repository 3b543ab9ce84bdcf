import type { ModelConfig } from "./types.ts";

/**
 * The parameters of a prompt MLM (RobertaForMaskedLM / BertForMaskedLM layout) by Hugging Face name, with shapes
 * from the config. The single source of truth for names and shapes: the graph builders address parameters through
 * {@link modelNames}, the loader validates checkpoints against {@link parameterSpecs}, and `model init` generates
 * exactly those tensors.
 */

export type ParamKind = "embedding" | "linear-weight" | "bias" | "layernorm-weight" | "layernorm-bias";

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
}

/** A weight/bias pair (a Linear or a LayerNorm). */
export interface WeightBias {
  weight: string;
  bias: string;
}

export interface LayerNames {
  query: WeightBias;
  key: WeightBias;
  value: WeightBias;
  attnOut: WeightBias;
  attnNorm: WeightBias;
  inter: WeightBias;
  out: WeightBias;
  outNorm: WeightBias;
}

export interface ModelNames {
  wordEmb: string;
  posEmb: string;
  typeEmb: string;
  embNorm: WeightBias;
  layers: LayerNames[];
  headDense: WeightBias;
  headNorm: WeightBias;
  /** The untied decoder weight [vocab, hidden] (docs/protocol.md §4). */
  decoder: string;
  /** The decoder bias [vocab] (`lm_head.bias` ≡ `lm_head.decoder.bias`). */
  decoderBias: string;
  /** The other checkpoint name of the decoder bias (`*.decoder.bias`), read as {@link decoderBias}. */
  decoderBiasAlias: string;
}

/** Base-model prefix in MLM checkpoints: "roberta" or "bert". */
export function basePrefix(config: ModelConfig): string {
  return config.modelType;
}

/** Names of the MLM head parts (docs/protocol.md §4: dense → GELU → LayerNorm → decoder + bias). */
export function headNames(config: ModelConfig) {
  const root = config.modelType === "roberta" ? "lm_head" : "cls.predictions";
  return {
    dense: config.modelType === "roberta" ? "lm_head.dense" : "cls.predictions.transform.dense",
    layerNorm: config.modelType === "roberta" ? "lm_head.layer_norm" : "cls.predictions.transform.LayerNorm",
    decoderWeight: `${root}.decoder.weight`,
    bias: `${root}.bias`,
    decoderBias: `${root}.decoder.bias`,
  };
}

const wb = (p: string): WeightBias => ({ weight: `${p}.weight`, bias: `${p}.bias` });

/** Every Hugging Face parameter name of the prompt MLM, structured as the forward pass uses them. */
export function modelNames(config: ModelConfig): ModelNames {
  const p = basePrefix(config);
  const layers = Array.from({ length: config.numHiddenLayers }, (_, i): LayerNames => {
    const l = `${p}.encoder.layer.${i}`;
    return {
      query: wb(`${l}.attention.self.query`),
      key: wb(`${l}.attention.self.key`),
      value: wb(`${l}.attention.self.value`),
      attnOut: wb(`${l}.attention.output.dense`),
      attnNorm: wb(`${l}.attention.output.LayerNorm`),
      inter: wb(`${l}.intermediate.dense`),
      out: wb(`${l}.output.dense`),
      outNorm: wb(`${l}.output.LayerNorm`),
    };
  });
  const head = headNames(config);
  return {
    wordEmb: `${p}.embeddings.word_embeddings.weight`,
    posEmb: `${p}.embeddings.position_embeddings.weight`,
    typeEmb: `${p}.embeddings.token_type_embeddings.weight`,
    embNorm: wb(`${p}.embeddings.LayerNorm`),
    layers,
    headDense: wb(head.dense),
    headNorm: wb(head.layerNorm),
    decoder: head.decoderWeight,
    decoderBias: head.bias,
    decoderBiasAlias: head.decoderBias,
  };
}

export function wordEmbeddingsName(config: ModelConfig): string {
  return modelNames(config).wordEmb;
}

/** Every parameter the prompt MLM needs, in the order Hugging Face's state_dict lists them. */
export function parameterSpecs(config: ModelConfig): ParamSpec[] {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V } = config;
  const n = modelNames(config);
  const out: ParamSpec[] = [];
  const linear = (p: WeightBias, outDim: number, inDim: number) => {
    out.push({ name: p.weight, shape: [outDim, inDim], kind: "linear-weight" });
    out.push({ name: p.bias, shape: [outDim], kind: "bias" });
  };
  const layerNorm = (p: WeightBias) => {
    out.push({ name: p.weight, shape: [H], kind: "layernorm-weight" });
    out.push({ name: p.bias, shape: [H], kind: "layernorm-bias" });
  };
  out.push({ name: n.wordEmb, shape: [V, H], kind: "embedding" });
  out.push({ name: n.posEmb, shape: [config.maxPositionEmbeddings, H], kind: "embedding" });
  out.push({ name: n.typeEmb, shape: [config.typeVocabSize, H], kind: "embedding" });
  layerNorm(n.embNorm);
  for (const l of n.layers) {
    linear(l.query, H, H);
    linear(l.key, H, H);
    linear(l.value, H, H);
    linear(l.attnOut, H, H);
    layerNorm(l.attnNorm);
    linear(l.inter, I, H);
    linear(l.out, H, I);
    layerNorm(l.outNorm);
  }
  linear(n.headDense, H, H);
  layerNorm(n.headNorm);
  out.push({ name: n.decoder, shape: [V, H], kind: "linear-weight" });
  out.push({ name: n.decoderBias, shape: [V], kind: "bias" });
  return out;
}

/**
 * Parameters a checkpoint may carry that the prompt MLM does not need (pooler; BERT's next-sentence head).
 * They are validated and kept when present (ModelForPromptFinetuning owns a pooler, docs/protocol.md §4), never required.
 */
export function optionalParameterSpecs(config: ModelConfig): ParamSpec[] {
  const H = config.hiddenSize;
  const p = basePrefix(config);
  const out: ParamSpec[] = [
    { name: `${p}.pooler.dense.weight`, shape: [H, H], kind: "linear-weight" },
    { name: `${p}.pooler.dense.bias`, shape: [H], kind: "bias" },
  ];
  if (config.modelType === "bert")
    out.push(
      { name: "cls.seq_relationship.weight", shape: [2, H], kind: "linear-weight" },
      { name: "cls.seq_relationship.bias", shape: [2], kind: "bias" },
    );
  return out;
}

/** Non-parameter buffers some checkpoints store; skipped on load. */
export function isKnownBuffer(name: string): boolean {
  return /(^|\.)embeddings\.(position_ids|token_type_ids)$/.test(name);
}

/**
 * Map a checkpoint name to its Hugging Face name: legacy BERT LayerNorm names (`gamma`/`beta` → `weight`/`bias`)
 * and base models saved without their prefix (`embeddings.…` → `roberta.embeddings.…`).
 */
export function canonicalName(name: string, config: ModelConfig): string {
  let n = name
    .replace(/(LayerNorm|layer_norm)\.gamma$/, "$1.weight")
    .replace(/(LayerNorm|layer_norm)\.beta$/, "$1.bias");
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `${basePrefix(config)}.${n}`;
  return n;
}
