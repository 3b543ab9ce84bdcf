import { describe, expect, it } from "vitest";
import { maskSequences } from "../../../src/training/pretrain/masking.ts";
import { Rng } from "../../../src/training/rng.ts";

const V = 1000;
const opts = { maskId: V - 1, firstPiece: 4, vocabEnd: V - 1 };

/** 200 sequences of 64 ids: <s> pieces… </s>, with a </s> in the middle (a document boundary). */
function corpus(seed: number): Int32Array {
  const rng = new Rng(seed);
  const ids = new Int32Array(200 * 64);
  for (let r = 0; r < 200; r++)
    for (let t = 0; t < 64; t++) ids[r * 64 + t] = t === 0 ? 0 : t === 63 || t === 30 ? 2 : 4 + rng.nextBelow(V - 5);
  return ids;
}

describe("dynamic masking (15%, 80/10/10)", () => {
  it("masks round(15%) of each sequence's pieces, never a special token; labels are the original ids", () => {
    const ids = corpus(1);
    const b = maskSequences(ids, 64, opts, new Rng(7));
    // 61 pieces per sequence (64 − <s> − two </s>): round(0.15 · 61) = 9.
    expect(b.maskedIndex.length).toBe(200 * 9);
    for (let r = 0; r < 200; r++) {
      const inRow = [...b.maskedIndex].filter((i) => Math.floor(i / 64) === r);
      expect(inRow.length).toBe(9);
      expect(new Set(inRow).size).toBe(9);
    }
    b.maskedIndex.forEach((at, k) => {
      expect(ids[at]).toBeGreaterThanOrEqual(4);
      expect(b.labels[k]).toBe(ids[at]);
    });
    // Positions not chosen are unchanged.
    const chosen = new Set(b.maskedIndex);
    for (let i = 0; i < ids.length; i++) if (!chosen.has(i)) expect(b.inputIds[i]).toBe(ids[i]);
  });

  it("replaces 80% by <mask>, 10% by a random piece, keeps 10% (binomial 4σ bounds over 18,000 draws)", () => {
    let mask = 0;
    let same = 0;
    let n = 0;
    for (let s = 0; s < 10; s++) {
      const ids = corpus(s);
      const b = maskSequences(ids, 64, opts, new Rng(100 + s));
      b.maskedIndex.forEach((at) => {
        n++;
        if (b.inputIds[at] === opts.maskId) mask++;
        else if (b.inputIds[at] === ids[at]) same++;
        else expect(b.inputIds[at]).toBeGreaterThanOrEqual(4);
      });
    }
    const bound = (p: number) => 4 * Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(mask / n - 0.8)).toBeLessThan(bound(0.8));
    // "Kept" includes random replacements that drew the original id (probability 1/995 each).
    expect(Math.abs(same / n - 0.1)).toBeLessThan(bound(0.1) + 0.001);
    expect(Math.abs((n - mask - same) / n - 0.1)).toBeLessThan(bound(0.1) + 0.001);
  });

  it("is a function of the generator's seed: equal seeds equal batches, other seeds other positions", () => {
    const ids = corpus(3);
    const a = maskSequences(ids, 64, opts, new Rng(5));
    const b = maskSequences(ids, 64, opts, new Rng(5));
    const c = maskSequences(ids, 64, opts, new Rng(6));
    expect(b).toEqual(a);
    expect(c.maskedIndex).not.toEqual(a.maskedIndex);
  });

  it("rejects rows that do not divide the ids and bad fractions", () => {
    expect(() => maskSequences(new Int32Array(10), 3, opts, new Rng(1))).toThrow(/not rows of 3/);
    expect(() => maskSequences(new Int32Array(9), 3, { ...opts, maskFrac: 0.9, randomFrac: 0.2 }, new Rng(1))).toThrow(
      /sum to/,
    );
  });
});
