import type { ModelConfig } from "./types.ts";

/**
 * The parameters of a prompt MLM (RobertaForMaskedLM / BertForMaskedLM layout) by Hugging Face name, with shapes
 * from the config. The single source of truth for names: the loader validates checkpoints against it and
 * `model init` generates exactly these tensors.
 */

export type ParamKind = "embedding" | "linear-weight" | "bias" | "layernorm-weight" | "layernorm-bias";

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
}

/** Base-model prefix in MLM checkpoints: "roberta" or "bert". */
export function basePrefix(config: ModelConfig): string {
  return config.modelType;
}

/** Names of the MLM head parts (REFERENCE §4: dense → GELU → LayerNorm → decoder + bias). */
export function headNames(config: ModelConfig) {
  return config.modelType === "roberta"
    ? {
        dense: "lm_head.dense",
        layerNorm: "lm_head.layer_norm",
        decoderWeight: "lm_head.decoder.weight",
        bias: "lm_head.bias",
        decoderBias: "lm_head.decoder.bias",
      }
    : {
        dense: "cls.predictions.transform.dense",
        layerNorm: "cls.predictions.transform.LayerNorm",
        decoderWeight: "cls.predictions.decoder.weight",
        bias: "cls.predictions.bias",
        decoderBias: "cls.predictions.decoder.bias",
      };
}

export function wordEmbeddingsName(config: ModelConfig): string {
  return `${basePrefix(config)}.embeddings.word_embeddings.weight`;
}

/** Every parameter the prompt MLM needs, in the order Hugging Face's state_dict lists them. */
export function parameterSpecs(config: ModelConfig): ParamSpec[] {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V } = config;
  const p = basePrefix(config);
  const out: ParamSpec[] = [];
  const linear = (name: string, outDim: number, inDim: number) => {
    out.push({ name: `${name}.weight`, shape: [outDim, inDim], kind: "linear-weight" });
    out.push({ name: `${name}.bias`, shape: [outDim], kind: "bias" });
  };
  const layerNorm = (name: string) => {
    out.push({ name: `${name}.weight`, shape: [H], kind: "layernorm-weight" });
    out.push({ name: `${name}.bias`, shape: [H], kind: "layernorm-bias" });
  };
  out.push({ name: `${p}.embeddings.word_embeddings.weight`, shape: [V, H], kind: "embedding" });
  out.push({
    name: `${p}.embeddings.position_embeddings.weight`,
    shape: [config.maxPositionEmbeddings, H],
    kind: "embedding",
  });
  out.push({
    name: `${p}.embeddings.token_type_embeddings.weight`,
    shape: [config.typeVocabSize, H],
    kind: "embedding",
  });
  layerNorm(`${p}.embeddings.LayerNorm`);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const L = `${p}.encoder.layer.${l}`;
    linear(`${L}.attention.self.query`, H, H);
    linear(`${L}.attention.self.key`, H, H);
    linear(`${L}.attention.self.value`, H, H);
    linear(`${L}.attention.output.dense`, H, H);
    layerNorm(`${L}.attention.output.LayerNorm`);
    linear(`${L}.intermediate.dense`, I, H);
    linear(`${L}.output.dense`, H, I);
    layerNorm(`${L}.output.LayerNorm`);
  }
  const head = headNames(config);
  linear(head.dense, H, H);
  layerNorm(head.layerNorm);
  out.push({ name: head.decoderWeight, shape: [V, H], kind: "linear-weight" });
  out.push({ name: head.bias, shape: [V], kind: "bias" });
  return out;
}

/**
 * Parameters a checkpoint may carry that the prompt MLM does not need (pooler; BERT's next-sentence head).
 * They are validated and kept when present (ModelForPromptFinetuning owns a pooler, REFERENCE §4), never required.
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
