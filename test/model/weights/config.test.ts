import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { modelConfigToJson, parseModelConfig, readModelConfig } from "../../../src/model/weights/config.ts";
import { removeTmpDirs, tmpDir } from "./helpers.ts";

afterAll(removeTmpDirs);

const robertaBase = {
  architectures: ["RobertaForMaskedLM"],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  model_type: "roberta",
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 1,
  type_vocab_size: 1,
  vocab_size: 50265,
};

describe("config.json", () => {
  it("reads roberta-base's config", () => {
    expect(parseModelConfig(robertaBase)).toEqual({
      modelType: "roberta",
      vocabSize: 50265,
      hiddenSize: 768,
      numHiddenLayers: 12,
      numAttentionHeads: 12,
      intermediateSize: 3072,
      maxPositionEmbeddings: 514,
      typeVocabSize: 1,
      layerNormEps: 1e-5,
      padTokenId: 1,
      hiddenDropoutProb: 0.1,
      attentionProbsDropoutProb: 0.1,
    });
  });

  it("fills missing keys with the transformers defaults (BERT pad 0, RoBERTa pad 1)", () => {
    const b = parseModelConfig({ model_type: "bert" });
    expect(b).toMatchObject({
      vocabSize: 30522,
      hiddenSize: 768,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      padTokenId: 0,
    });
    expect(parseModelConfig({ model_type: "roberta" }).padTokenId).toBe(1);
  });

  it.each([
    [{ model_type: "gpt2" }, /model_type "gpt2" is not supported/],
    [{ model_type: "xlm-roberta" }, /model_type "xlm-roberta" is not supported/],
    [{ position_embedding_type: "relative_key" }, /position_embedding_type "relative_key" is not supported/],
    [{ hidden_act: "gelu_new" }, /hidden_act "gelu_new" is not supported/],
    [{ is_decoder: true }, /is_decoder/],
    [{ add_cross_attention: true }, /add_cross_attention/],
    [{ num_attention_heads: 5 }, /multiple of num_attention_heads/],
    [{ hidden_size: "768" }, /hidden_size must be an integer/],
    [{ layer_norm_eps: 0 }, /layer_norm_eps must be a positive number/],
    [{ pad_token_id: 60000 }, /pad_token_id \(60000\) must be < vocab_size/],
    [{ max_position_embeddings: 2 }, /must exceed pad_token_id \+ 1/],
    [{ hidden_dropout_prob: 1.5 }, /hidden_dropout_prob/],
  ])("rejects %j", (patch, msg) => {
    expect(() => parseModelConfig({ ...robertaBase, ...patch }, "/m/config.json")).toThrow(msg);
    expect(() => parseModelConfig({ ...robertaBase, ...patch }, "/m/config.json")).toThrow(/^\/m\/config\.json: /);
  });

  it("names the file when config.json is missing or not JSON", () => {
    const dir = tmpDir("entk-cfg-");
    expect(() => readModelConfig(dir)).toThrow(`${join(dir, "config.json")}: cannot read the model config (ENOENT)`);
    writeFileSync(join(dir, "config.json"), "{ not json");
    expect(() => readModelConfig(dir)).toThrow(`${join(dir, "config.json")}: not valid JSON`);
  });

  it("writes a config.json that reads back to the same ModelConfig", () => {
    for (const raw of [robertaBase, { ...robertaBase, model_type: "bert", pad_token_id: 0, type_vocab_size: 2 }]) {
      const c = parseModelConfig(raw);
      expect(parseModelConfig(modelConfigToJson(c))).toEqual(c);
    }
  });
});
