import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelConfig } from "./types.ts";

/**
 * Hugging Face `config.json` → ModelConfig. Keys missing from the file take the defaults of transformers'
 * BertConfig / RobertaConfig (as `from_pretrained` would); settings entk's engine does not implement are rejected
 * with an error naming the file and the key, instead of silently computing a different function.
 */

type Json = Record<string, unknown>;

/** transformers defaults (BertConfig; RobertaConfig only changes pad_token_id to 1). */
const DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
} as const;

/** A bad model config.json (the message names the file). */
export class ModelConfigError extends Error {}

export function parseModelConfig(raw: unknown, source = "config.json"): ModelConfig {
  const fail = (msg: string): never => {
    throw new ModelConfigError(`${source}: ${msg}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("expected a JSON object");
  const c = raw as Json;

  const modelType = c.model_type;
  if (modelType !== "roberta" && modelType !== "bert")
    fail(
      `model_type ${JSON.stringify(modelType)} is not supported (expected "roberta" or "bert"; RoBERTa-like ` +
        "variants such as xlm-roberta or camembert are not implemented)",
    );
  const mt = modelType as "roberta" | "bert";

  const posType = c.position_embedding_type ?? "absolute";
  if (posType !== "absolute")
    fail(`position_embedding_type ${JSON.stringify(posType)} is not supported (only "absolute")`);
  const act = c.hidden_act ?? "gelu";
  if (act !== "gelu") fail(`hidden_act ${JSON.stringify(act)} is not supported (only "gelu", the exact erf form)`);
  if (c.is_decoder === true) fail("is_decoder: true is not supported (entk runs bidirectional encoders only)");
  if (c.add_cross_attention === true) fail("add_cross_attention: true is not supported");

  const int = (key: keyof typeof DEFAULTS | "pad_token_id", dflt: number, min: number): number => {
    const v = c[key] ?? dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min)
      fail(`${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const prob = (key: "hidden_dropout_prob" | "attention_probs_dropout_prob"): number => {
    const v = c[key] ?? DEFAULTS[key];
    if (typeof v !== "number" || !(v >= 0 && v < 1))
      fail(`${key} must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v as number;
  };

  const config: ModelConfig = {
    modelType: mt,
    vocabSize: int("vocab_size", DEFAULTS.vocab_size, 1),
    hiddenSize: int("hidden_size", DEFAULTS.hidden_size, 1),
    numHiddenLayers: int("num_hidden_layers", DEFAULTS.num_hidden_layers, 1),
    numAttentionHeads: int("num_attention_heads", DEFAULTS.num_attention_heads, 1),
    intermediateSize: int("intermediate_size", DEFAULTS.intermediate_size, 1),
    maxPositionEmbeddings: int("max_position_embeddings", DEFAULTS.max_position_embeddings, 1),
    typeVocabSize: int("type_vocab_size", DEFAULTS.type_vocab_size, 1),
    layerNormEps: 0,
    padTokenId: int("pad_token_id", mt === "roberta" ? 1 : 0, 0),
    hiddenDropoutProb: prob("hidden_dropout_prob"),
    attentionProbsDropoutProb: prob("attention_probs_dropout_prob"),
  };
  const eps = c.layer_norm_eps ?? DEFAULTS.layer_norm_eps;
  if (typeof eps !== "number" || !(eps > 0))
    fail(`layer_norm_eps must be a positive number, got ${JSON.stringify(eps)}`);
  config.layerNormEps = eps as number;

  if (config.hiddenSize % config.numAttentionHeads !== 0)
    fail(`hidden_size (${config.hiddenSize}) must be a multiple of num_attention_heads (${config.numAttentionHeads})`);
  if (config.padTokenId >= config.vocabSize)
    fail(`pad_token_id (${config.padTokenId}) must be < vocab_size (${config.vocabSize})`);
  // RoBERTa positions start at pad_token_id + 1 (docs/protocol.md §4), so the table must have room beyond it.
  if (mt === "roberta" && config.maxPositionEmbeddings <= config.padTokenId + 1)
    fail(
      `max_position_embeddings (${config.maxPositionEmbeddings}) must exceed pad_token_id + 1 = ` +
        `${config.padTokenId + 1} for RoBERTa position ids`,
    );
  return config;
}

/** Read and validate `<dir>/config.json`. */
export function readModelConfig(dir: string): ModelConfig {
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ModelConfigError(`${path}: cannot read the model config (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseModelConfig(raw, path);
}

/** ModelConfig → the Hugging Face config.json object (what `model init` writes; transformers can load it). */
export function modelConfigToJson(config: ModelConfig): Json {
  const roberta = config.modelType === "roberta";
  return {
    architectures: [roberta ? "RobertaForMaskedLM" : "BertForMaskedLM"],
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: "gelu",
    hidden_dropout_prob: config.hiddenDropoutProb,
    attention_probs_dropout_prob: config.attentionProbsDropoutProb,
    max_position_embeddings: config.maxPositionEmbeddings,
    type_vocab_size: config.typeVocabSize,
    initializer_range: 0.02,
    layer_norm_eps: config.layerNormEps,
    pad_token_id: config.padTokenId,
    ...(roberta ? { bos_token_id: 0, eos_token_id: 2 } : {}),
    position_embedding_type: "absolute",
    torch_dtype: "float32",
  };
}
