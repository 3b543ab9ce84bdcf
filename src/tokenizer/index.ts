export { bytesToUnicode } from "./byte-level.ts";
export { loadTokenizer, TOKENIZER_FILES, tokenizerFromJson } from "./load.ts";
export {
  buildTokenizerFiles,
  SYNTHETIC_PROMPT_WORDS,
  type SyntheticTokenizerOptions,
  writeTokenizerFiles,
} from "./synthetic.ts";
export type { EntkTokenizer } from "./types.ts";
