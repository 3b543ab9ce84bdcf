import { addedToken, pad, type SyntheticTokenizerOptions, uniq } from "./synthetic-common.ts";
import { COMMON_WORDS, SYNTHETIC_PROMPT_WORDS } from "./synthetic-words.ts";

/**
 * WordPiece in bert-base-uncased's layout: `[PAD]`=0, `[unused0..98]`=1..99, `[UNK]`=100, `[CLS]`=101,
 * `[SEP]`=102, `[MASK]`=103, then printable ASCII characters, `##` continuations of letters and digits (so any
 * ASCII word tokenizes), and whole words.
 */
export function buildBert(opts: SyntheticTokenizerOptions) {
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
