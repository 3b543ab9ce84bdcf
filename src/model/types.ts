/** One tokenized prompt as the engine consumes it: ids without padding and the index of the <mask> token. */
export interface PromptInput {
  inputIds: ArrayLike<number>;
  maskPos: number;
}
