/** The tokenizer interface the prompt layer and the engine rely on (Hugging Face `tokenizer.json` semantics). */
export interface EntkTokenizer {
  kind: "bpe" | "wordpiece";
  vocabSize: number;
  /** HF `encode(text, add_special_tokens=False)`. */
  encode(text: string): number[];
  /** HF `tokenize(text)`: the token strings (e.g. "Ġgreat"). */
  tokenize(text: string): string[];
  /** Raw vocabulary lookup (`convert_tokens_to_ids`), no BPE; undefined when absent. */
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  clsId: number;
  sepId: number;
  maskId: number;
  padId: number;
  unkId: number;
}
