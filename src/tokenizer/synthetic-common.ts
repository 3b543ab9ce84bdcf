/** Pieces shared by the synthetic BPE and WordPiece builders. */

export function addedToken(id: number, content: string, extra: { lstrip?: boolean; normalized?: boolean } = {}) {
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

export function uniq(words: Iterable<string>): string[] {
  return [...new Set(words)];
}

export interface SyntheticTokenizerOptions {
  /** Total vocabulary size. Padded with unused tokens up to this size; an error if it is below the minimum. */
  vocabSize?: number;
  /** WordPiece only: lowercase input (bert-base-uncased) or not (cased). Default true. */
  lowercase?: boolean;
}

export function pad(
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
