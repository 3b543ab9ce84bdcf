export { loadTokenizer, tokenizerFromJson } from "./load.ts";
export {
  buildTokenizerFiles,
  bytesToUnicode,
  SYNTHETIC_PROMPT_WORDS,
  type SyntheticTokenizerOptions,
  writeTokenizerFiles,
} from "./synthetic.ts";
export type { EntkTokenizer } from "./types.ts";
