import {
  ROBERTA_LEADING_SPECIALS,
  ROBERTA_MASK,
  ROBERTA_SPECIALS_MAP,
  ROBERTA_TOKENIZER_CONFIG,
  robertaTokenizerJson,
} from "./bpe-gpt2.ts";
import { bytesToUnicode } from "./byte-level.ts";
import { pad, type SyntheticTokenizerOptions, uniq } from "./synthetic-common.ts";
import { COMMON_WORDS, SYNTHETIC_PROMPT_WORDS } from "./synthetic-words.ts";

const ROBERTA_SPECIALS = ROBERTA_LEADING_SPECIALS;

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
  const tokenizer = robertaTokenizerJson(
    { ...Object.fromEntries(vocab), [ROBERTA_MASK]: vocab.size },
    merges.map(([a, b]) => `${a} ${b}`),
  );
  const specials = ROBERTA_SPECIALS_MAP;
  const config = ROBERTA_TOKENIZER_CONFIG;
  return { tokenizer, config, specials };
}
