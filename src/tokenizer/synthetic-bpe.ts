import { bytesToUnicode } from "./byte-level.ts";
import { addedToken, pad, type SyntheticTokenizerOptions, uniq } from "./synthetic-common.ts";
import { COMMON_WORDS, SYNTHETIC_PROMPT_WORDS } from "./synthetic-words.ts";

const ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"] as const;

/**
 * Byte-level BPE in roberta-base's layout: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, the 256 byte symbols, the
 * merged word tokens, then `<mask>` as the last id. Every merge has a `Ġ`-prefixed left side, so a space-prefixed
 * word can only grow left to right along its own prefix chain: each listed word ends as exactly one token.
 */
export function buildRoberta(opts: SyntheticTokenizerOptions) {
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
  const maskId = vocab.size;
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      ...ROBERTA_SPECIALS.map((s, i) => addedToken(i, s, { normalized: true })),
      addedToken(maskId, "<mask>", { lstrip: true, normalized: false }),
    ],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: "RobertaProcessing",
      sep: ["</s>", 2],
      cls: ["<s>", 0],
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
      vocab: { ...Object.fromEntries(vocab), "<mask>": maskId },
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const specials = {
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    sep_token: "</s>",
    pad_token: "<pad>",
    cls_token: "<s>",
    mask_token: "<mask>",
  };
  const config = {
    ...specials,
    add_prefix_space: false,
    errors: "replace",
    model_max_length: 512,
    tokenizer_class: "RobertaTokenizer",
    trim_offsets: true,
  };
  return { tokenizer, config, specials };
}
