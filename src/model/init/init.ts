import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeTokenizerFiles } from "../../tokenizer/synthetic.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { OptionError } from "../../util/errors.ts";
import { modelConfigToJson } from "../weights/config.ts";
import { type ParamSpec, parameterSpecs } from "../weights/params.ts";
import { writeSafetensors } from "../weights/safetensors.ts";
import type { ModelConfig } from "../weights/types.ts";
import { type Arch, type Preset, presetConfig, presetVocabSize } from "./presets.ts";
import { TensorRng } from "./rng.ts";

/** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json (src/tokenizer's writeTokenizerFiles). */
export type TokenizerWriter = (dir: string, arch: Arch, opts: { vocabSize?: number }) => Promise<unknown>;

export interface InitOptions {
  arch: Arch;
  preset: Preset;
  seed: number;
  out: string;
  /** Default: the synthetic tokenizer of src/tokenizer (byte-level BPE for roberta, WordPiece for bert). */
  writeTokenizer?: TokenizerWriter;
  /** Replace model files already in `out` (default: refuse). */
  force?: boolean;
  /** Sizes that replace the preset's (e.g. `entk pretrain --init`'s hidden size and depth). */
  shape?: Partial<Pick<ModelConfig, ShapeKey>>;
}

export type ShapeKey =
  | "hiddenSize"
  | "numHiddenLayers"
  | "numAttentionHeads"
  | "intermediateSize"
  | "maxPositionEmbeddings";

/**
 * How `model init` draws each parameter (HF `_init_weights` with initializer_range 0.02):
 *  - embeddings and linear weights ~ N(0, σ²); the padding row of the word (and RoBERTa position) embeddings = 0;
 *  - biases = 0, LayerNorm γ = 1, β = 0;
 *  - the decoder weight is drawn independently of the word embeddings (untied, docs/protocol.md §4).
 * The tiny preset uses σ = 0.1 and also draws biases ~ N(0, σ²) and γ ~ 1 + N(0, σ²), so gradient tests exercise
 * every parameter and a 16-wide model is visibly nonlinear.
 */
export function initScheme(preset: Preset) {
  const tiny = preset === "tiny";
  return { std: tiny ? 0.1 : 0.02, randomBiasesAndNorms: tiny };
}

const CHUNK = 1 << 20;

/** Values of one parameter, produced in chunks (never the whole 38M-value decoder in one extra buffer). */
function* paramChunks(spec: ParamSpec, config: ModelConfig, seed: number, preset: Preset): Generator<Float32Array> {
  const { std, randomBiasesAndNorms } = initScheme(preset);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const rng = new TensorRng(seed, spec.name);
  const cols = spec.shape[spec.shape.length - 1];
  const zeroRow =
    spec.kind === "embedding" &&
    (spec.name.endsWith("word_embeddings.weight") ||
      (config.modelType === "roberta" && spec.name.endsWith("position_embeddings.weight")))
      ? config.padTokenId
      : -1;
  for (let start = 0; start < n; start += CHUNK) {
    const len = Math.min(CHUNK, n - start);
    const out = new Float32Array(len);
    for (let i = 0; i < len; i++) {
      const flat = start + i;
      switch (spec.kind) {
        case "embedding":
        case "linear-weight":
          out[i] = Math.floor(flat / cols) === zeroRow ? 0 : std * rng.normal();
          break;
        case "bias":
        case "layernorm-bias":
          out[i] = randomBiasesAndNorms ? std * rng.normal() : 0;
          break;
        case "layernorm-weight":
          out[i] = 1 + (randomBiasesAndNorms ? std * rng.normal() : 0);
          break;
      }
    }
    yield out;
  }
}

/** Vocabulary size of a tokenizer.json: 1 + the largest id in model.vocab and added_tokens. */
export function tokenizerJsonVocabSize(path: string): number {
  const tok = JSON.parse(readFileSync(path, "utf8")) as {
    model?: { vocab?: Record<string, number> | [string, number][] };
    added_tokens?: { id: number }[];
  };
  const vocab = tok.model?.vocab;
  const ids = Array.isArray(vocab) ? vocab.map((_, i) => i) : Object.values(vocab ?? {});
  for (const t of tok.added_tokens ?? []) ids.push(t.id);
  if (ids.length === 0) throw new Error(`${path}: no vocabulary found (expected model.vocab)`);
  return Math.max(...ids) + 1;
}

const MODEL_FILES = ["config.json", "model.safetensors", "tokenizer.json"];

/**
 * Write a deterministic random prompt MLM in the Hugging Face layout: tokenizer files, config.json and
 * model.safetensors (streamed; atomically written) with HF parameter names including the decoder weight.
 */
export async function initModel(opts: InitOptions): Promise<{ dir: string; config: ModelConfig; files: string[] }> {
  const { arch, preset, seed, out } = opts;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  if (!opts.force && existsSync(out)) {
    const clash = readdirSync(out).filter((f) => MODEL_FILES.includes(f));
    if (clash.length > 0)
      throw new OptionError(
        "force",
        (n) => `${out} already holds ${clash.join(", ")} (use ${n("force")} to replace them)`,
      );
  }
  await (opts.writeTokenizer ?? writeTokenizerFiles)(out, arch, { vocabSize: presetVocabSize(arch, preset) });
  const tokVocab = tokenizerJsonVocabSize(join(out, "tokenizer.json"));
  const config = { ...presetConfig(arch, preset, tokVocab), ...opts.shape };
  if (config.hiddenSize % config.numAttentionHeads !== 0)
    throw new Error(`hidden size ${config.hiddenSize} is not a multiple of the ${config.numAttentionHeads} heads`);
  if (tokVocab > config.vocabSize)
    throw new Error(`tokenizer has ${tokVocab} ids but the ${preset} model's vocabulary is ${config.vocabSize}`);
  await writeFileAtomic(join(out, "config.json"), `${JSON.stringify(modelConfigToJson(config), null, 2)}\n`);
  const tensors = parameterSpecs(config).map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    data: () => paramChunks(spec, config, seed, preset),
  }));
  await writeSafetensors(join(out, "model.safetensors"), tensors, {
    format: "pt",
    entk_init: JSON.stringify({ arch, preset, seed, ...initScheme(preset) }),
  });
  return {
    dir: out,
    config,
    files: ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"],
  };
}
