/**
 * RoBERTa's dynamic masking (Liu et al. 2019, following BERT): for each packed sequence, a fresh draw every time it
 * is seen: round(15% of its maskable tokens) positions are chosen uniformly without replacement; of those, 80%
 * become <mask>, 10% a uniformly random vocabulary piece, 10% stay as they are. The loss is taken at every chosen
 * position against the original token. Special tokens (ids below `firstPiece`, and <mask>) are never chosen.
 */
import type { MlmBatch } from "../../model/mlm-model.ts";
import type { Rng } from "../rng.ts";

export interface MaskingOptions {
  /** Fraction of maskable tokens chosen per sequence (default 0.15). */
  rate?: number;
  /** Of the chosen: fraction replaced by <mask> (default 0.8) and by a random piece (default 0.1). */
  maskFrac?: number;
  randomFrac?: number;
  maskId: number;
  /** Ids in [firstPiece, vocabEnd) are ordinary pieces: maskable, and the pool random replacements come from. */
  firstPiece: number;
  vocabEnd: number;
}

/** Mask the rows (each `seqLen` ids, row-major) with generator `rng`; returns the MLM batch. */
export function maskSequences(ids: Int32Array, seqLen: number, o: MaskingOptions, rng: Rng): MlmBatch {
  const rate = o.rate ?? 0.15;
  const pMask = o.maskFrac ?? 0.8;
  const pRand = o.randomFrac ?? 0.1;
  if (!(rate > 0 && rate <= 1)) throw new Error(`masking: rate must be in (0, 1], got ${rate}`);
  if (!(pMask >= 0 && pRand >= 0 && pMask + pRand <= 1))
    throw new Error(`masking: mask/random fractions must be ≥ 0 and sum to ≤ 1, got ${pMask}, ${pRand}`);
  if (ids.length % seqLen !== 0) throw new Error(`masking: ${ids.length} ids are not rows of ${seqLen}`);
  const rows = ids.length / seqLen;
  const out = ids.slice();
  const index: number[] = [];
  const labels: number[] = [];
  const u = () => rng.nextU32() / 0x100000000;
  const maskable = (id: number) => id >= o.firstPiece && id < o.vocabEnd && id !== o.maskId;
  for (let r = 0; r < rows; r++) {
    const cand: number[] = [];
    for (let t = 0; t < seqLen; t++) if (maskable(ids[r * seqLen + t])) cand.push(r * seqLen + t);
    const k = Math.min(cand.length, Math.round(rate * cand.length));
    // Partial Fisher–Yates: the first k of a uniform permutation of the candidates, then in position order.
    for (let i = 0; i < k; i++) {
      const j = i + rng.nextBelow(cand.length - i);
      [cand[i], cand[j]] = [cand[j], cand[i]];
    }
    const chosen = cand.slice(0, k).sort((a, b) => a - b);
    for (const at of chosen) {
      index.push(at);
      labels.push(ids[at]);
      const x = u();
      if (x < pMask) out[at] = o.maskId;
      else if (x < pMask + pRand) out[at] = o.firstPiece + rng.nextBelow(o.vocabEnd - o.firstPiece);
    }
  }
  return { inputIds: out, rows, seqLen, maskedIndex: Int32Array.from(index), labels: Int32Array.from(labels) };
}
