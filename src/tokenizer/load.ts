import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { parseMerges, robertaTokenizerJson } from "./bpe-gpt2.ts";
import type { EntkTokenizer } from "./types.ts";

type Json = Record<string, unknown>;

const DEFAULT_SPECIALS = {
  bpe: { cls: "<s>", sep: "</s>", mask: "<mask>", pad: "<pad>", unk: "<unk>" },
  wordpiece: { cls: "[CLS]", sep: "[SEP]", mask: "[MASK]", pad: "[PAD]", unk: "[UNK]" },
} as const;

/** A special token in tokenizer_config.json is either a string or an AddedToken object `{ content, ... }`. */
function specialName(config: Json, key: string): string | undefined {
  const v = config[key];
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return undefined;
}

/**
 * Build an {@link EntkTokenizer} from parsed `tokenizer.json` and `tokenizer_config.json` objects.
 * `source` names the origin in error messages.
 */
export function tokenizerFromJson(
  tokenizerJson: unknown,
  config: unknown = {},
  source = "tokenizer.json",
): EntkTokenizer {
  if (!tokenizerJson || typeof tokenizerJson !== "object") throw new Error(`${source}: expected a JSON object`);
  const tj = tokenizerJson as Json;
  const model = tj.model as Json | undefined;
  const type = model?.type;
  if (type !== "BPE" && type !== "WordPiece")
    throw new Error(`${source}: model.type must be "BPE" (RoBERTa) or "WordPiece" (BERT), got ${JSON.stringify(type)}`);
  const kind = type === "BPE" ? "bpe" : "wordpiece";
  const cfg = (config && typeof config === "object" ? config : {}) as Json;
  const tok = new Tokenizer(
    { added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...tj },
    cfg,
  );
  const vocab = tok.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;

  const defaults = DEFAULT_SPECIALS[kind];
  const idOf = (key: "cls" | "sep" | "mask" | "pad" | "unk"): number => {
    const name = specialName(cfg, `${key}_token`) ?? defaults[key];
    const id = tok.token_to_id(name);
    if (id === undefined)
      throw new Error(`${source}: special token ${key}_token ${JSON.stringify(name)} is not in the vocabulary`);
    return id;
  };
  const clsId = idOf("cls");
  const sepId = idOf("sep");
  const maskId = idOf("mask");
  const padId = idOf("pad");
  const unkId = idOf("unk");

  return {
    kind,
    vocabSize: maxId + 1,
    encode: (text) => (text.length === 0 ? [] : tok.encode(text, { add_special_tokens: false }).ids),
    tokenize: (text) => (text.length === 0 ? [] : tok.tokenize(text, { add_special_tokens: false })),
    tokenToId: (token) => tok.token_to_id(token),
    idToToken: (id) => tok.id_to_token(id),
    clsId,
    sepId,
    maskId,
    padId,
    unkId,
  };
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return {};
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new Error(`${path}: not found (a model directory needs tokenizer.json, or vocab.json + merges.txt)`);
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
}

/**
 * The tokenizer files a model directory may hold: what `loadTokenizer` reads (tokenizer.json + tokenizer_config.json,
 * or vocab.json + merges.txt) and the other files Hugging Face tokenizers read (special_tokens_map.json, BERT's
 * vocab.txt, added_tokens.json). Downloads, copies into new checkpoints and token-cache keys all use this one list.
 */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.json",
  "merges.txt",
  "vocab.txt",
  "added_tokens.json",
] as const;

/**
 * Load the tokenizer of a model directory: `tokenizer.json` and `tokenizer_config.json` (optional), or, without
 * tokenizer.json, a RoBERTa byte-level BPE from the slow files `vocab.json` + `merges.txt` (as many checkpoints ship).
 */
export async function loadTokenizer(dir: string): Promise<EntkTokenizer> {
  const tjPath = join(dir, "tokenizer.json");
  const cfg = await readJson(join(dir, "tokenizer_config.json"), false);
  if (!existsSync(tjPath) && existsSync(join(dir, "vocab.json")) && existsSync(join(dir, "merges.txt"))) {
    const vocabPath = join(dir, "vocab.json");
    const vocab = (await readJson(vocabPath, true)) as Record<string, number>;
    const mergesPath = join(dir, "merges.txt");
    const merges = parseMerges(await readFile(mergesPath, "utf8"), mergesPath);
    return tokenizerFromJson(robertaTokenizerJson(vocab, merges), cfg, vocabPath);
  }
  const tj = await readJson(tjPath, true);
  return tokenizerFromJson(tj, cfg, tjPath);
}
