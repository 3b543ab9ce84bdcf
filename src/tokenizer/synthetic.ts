import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import {
  ROBERTA_LEADING_SPECIALS,
  ROBERTA_MASK,
  ROBERTA_SPECIALS_MAP,
  ROBERTA_TOKENIZER_CONFIG,
  robertaTokenizerJson,
} from "./bpe-gpt2.ts";
import { bytesToUnicode } from "./byte-level.ts";

/**
 * Words every synthetic tokenizer holds as one token with a leading space (`Ġword` in BPE, `word` in WordPiece):
 * the label words of the 14 tasks plus CoLA/STS-B, and the words of the LM-BFF templates.
 */
export const SYNTHETIC_PROMPT_WORDS: readonly string[] = [
  // label words (docs/protocol.md §1.1)
  "terrible",
  "bad",
  "okay",
  "good",
  "great",
  "subjective",
  "objective",
  "Description",
  "Entity",
  "Expression",
  "Human",
  "Location",
  "Number",
  "world",
  "sports",
  "business",
  "tech",
  "No",
  "Yes",
  "Maybe",
  "incorrect",
  "correct",
  // template literals
  "It",
  "was",
  "This",
  "is",
  "article",
  "about",
  "news",
];

/** Common English words added (in this order) so that ordinary text does not fall apart into single bytes. */
const COMMON_WORDS: readonly string[] = [
  "the",
  "a",
  "an",
  "and",
  "of",
  "to",
  "in",
  "it",
  "that",
  "for",
  "on",
  "with",
  "as",
  "at",
  "by",
  "this",
  "from",
  "not",
  "but",
  "or",
  "be",
  "are",
  "was",
  "is",
  "have",
  "has",
  "had",
  "he",
  "she",
  "they",
  "we",
  "you",
  "I",
  "his",
  "her",
  "their",
  "one",
  "all",
  "there",
  "what",
  "so",
  "if",
  "about",
  "who",
  "which",
  "when",
  "more",
  "no",
  "out",
  "up",
  "can",
  "will",
  "just",
  "very",
  "movie",
  "film",
  "story",
  "like",
  "time",
  "do",
  "does",
  "did",
  "than",
  "its",
  "also",
  "into",
  "most",
  "some",
  "much",
  "would",
  "could",
  "even",
  "only",
  "well",
  "new",
  "first",
  "man",
  "people",
  "The",
  "A",
  "It",
  "In",
  "He",
  "She",
  "They",
  "What",
  "How",
  "Who",
  "Where",
  "When",
  "Why",
];

const ROBERTA_SPECIALS = ROBERTA_LEADING_SPECIALS;

function addedToken(id: number, content: string, extra: { lstrip?: boolean; normalized?: boolean } = {}) {
  return {
    id,
    content,
    single_word: false,
    lstrip: extra.lstrip ?? false,
    rstrip: false,
    normalized: extra.normalized ?? false,
    special: true,
  };
}

function uniq(words: Iterable<string>): string[] {
  return [...new Set(words)];
}

export interface SyntheticTokenizerOptions {
  /** Total vocabulary size. Padded with unused tokens up to this size; an error if it is below the minimum. */
  vocabSize?: number;
  /** WordPiece only: lowercase input (bert-base-uncased) or not (cased). Default true. */
  lowercase?: boolean;
}

function pad(
  vocab: Map<string, number>,
  target: number | undefined,
  reserveAfter: number,
  make: (i: number) => string,
) {
  if (target === undefined) return;
  const minimum = vocab.size + reserveAfter;
  if (!Number.isInteger(target) || target < minimum)
    throw new Error(`vocabSize must be an integer >= ${minimum} for this synthetic tokenizer, got ${target}`);
  for (let i = 0; vocab.size + reserveAfter < target; i++) {
    const t = make(i);
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  }
}

/**
 * Byte-level BPE in roberta-base's layout: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, the 256 byte symbols, the
 * merged word tokens, then `<mask>` as the last id. Every merge has a `Ġ`-prefixed left side, so a space-prefixed
 * word can only grow left to right along its own prefix chain: each listed word ends as exactly one token.
 */
function buildRoberta(opts: SyntheticTokenizerOptions) {
  const vocab = new Map<string, number>();
  for (const s of ROBERTA_SPECIALS) vocab.set(s, vocab.size);
  for (const ch of bytesToUnicode()) vocab.set(ch, vocab.size);
  const merges: [string, string][] = [];
  for (const word of uniq([...SYNTHETIC_PROMPT_WORDS, ...COMMON_WORDS])) {
    let cur = "Ġ";
    for (const ch of word) {
      const next = cur + ch;
      if (!vocab.has(next)) {
        vocab.set(next, vocab.size);
        merges.push([cur, ch]);
      }
      cur = next;
    }
  }
  pad(vocab, opts.vocabSize, 1, (i) => `<unused${i}>`);
  const tokenizer = robertaTokenizerJson(
    { ...Object.fromEntries(vocab), [ROBERTA_MASK]: vocab.size },
    merges.map(([a, b]) => `${a} ${b}`),
  );
  const specials = ROBERTA_SPECIALS_MAP;
  const config = ROBERTA_TOKENIZER_CONFIG;
  return { tokenizer, config, specials };
}

/**
 * WordPiece in bert-base-uncased's layout: `[PAD]`=0, `[unused0..98]`=1..99, `[UNK]`=100, `[CLS]`=101,
 * `[SEP]`=102, `[MASK]`=103, then printable ASCII characters, `##` continuations of letters and digits (so any
 * ASCII word tokenizes), and whole words.
 */
function buildBert(opts: SyntheticTokenizerOptions) {
  const lowercase = opts.lowercase ?? true;
  const vocab = new Map<string, number>();
  vocab.set("[PAD]", 0);
  for (let i = 0; i < 99; i++) vocab.set(`[unused${i}]`, vocab.size);
  for (const s of ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]) vocab.set(s, vocab.size);
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  for (let c = 33; c <= 126; c++) {
    const ch = String.fromCharCode(c);
    if (lowercase && ch >= "A" && ch <= "Z") continue;
    add(ch);
  }
  for (let c = 33; c <= 126; c++) {
    const ch = String.fromCharCode(c);
    if (/[a-z0-9]/.test(ch) || (!lowercase && /[A-Z]/.test(ch))) add(`##${ch}`);
  }
  for (const w of uniq([...SYNTHETIC_PROMPT_WORDS, ...COMMON_WORDS])) add(lowercase ? w.toLowerCase() : w);
  pad(vocab, opts.vocabSize, 0, (i) => `[unused${99 + i}]`);
  const special = (id: number, content: string) => addedToken(id, content, { normalized: false });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      special(0, "[PAD]"),
      special(100, "[UNK]"),
      special(101, "[CLS]"),
      special(102, "[SEP]"),
      special(103, "[MASK]"),
    ],
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [101], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [102], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
  const specials = {
    unk_token: "[UNK]",
    sep_token: "[SEP]",
    pad_token: "[PAD]",
    cls_token: "[CLS]",
    mask_token: "[MASK]",
  };
  const config = {
    ...specials,
    do_lower_case: lowercase,
    model_max_length: 512,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: "BertTokenizer",
  };
  return { tokenizer, config, specials };
}

/**
 * The JSON text of `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json` for a small,
 * deterministic synthetic tokenizer (byte-level BPE for "roberta", WordPiece for "bert").
 */
export function buildTokenizerFiles(
  arch: "roberta" | "bert",
  opts: SyntheticTokenizerOptions = {},
): Record<string, string> {
  if (arch !== "roberta" && arch !== "bert")
    throw new Error(`unknown tokenizer arch ${JSON.stringify(arch)} (expected roberta or bert)`);
  const { tokenizer, config, specials } = arch === "roberta" ? buildRoberta(opts) : buildBert(opts);
  return {
    "tokenizer.json": `${JSON.stringify(tokenizer, null, 2)}\n`,
    "tokenizer_config.json": `${JSON.stringify(config, null, 2)}\n`,
    "special_tokens_map.json": `${JSON.stringify(specials, null, 2)}\n`,
  };
}

/** Write {@link buildTokenizerFiles} into `dir` (atomically, one file at a time). Returns the written paths. */
export async function writeTokenizerFiles(
  dir: string,
  arch: "roberta" | "bert",
  opts: SyntheticTokenizerOptions = {},
): Promise<string[]> {
  const files = buildTokenizerFiles(arch, opts);
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    await writeFileAtomic(p, text);
    paths.push(p);
  }
  return paths;
}
