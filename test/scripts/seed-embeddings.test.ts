import { describe, expect, it } from "vitest";
import { pieceWord, seededRows } from "../../scripts/seed-embeddings.ts";

describe("GloVe seeding of word pieces (scripts/seed-embeddings.ts)", () => {
  const vectors: Record<string, number[]> = {
    great: [1, 0, 0, 0],
    good: [0.9, 0.1, 0, 0],
    terrible: [-1, 0, 0.2, 0],
    Paris: [0, 0, 0, 1],
    the: [0, 1, 0, 0],
  };
  const has = (w: string) => Object.hasOwn(vectors, w);

  it("maps space-marked pieces, capitalized first words and lower-case fall-backs; nothing else", () => {
    expect(pieceWord("Ġgreat", has)).toBe("great");
    expect(pieceWord("ĠGreat", has)).toBe("great");
    expect(pieceWord("ĠParis", has)).toBe("Paris");
    expect(pieceWord("The", has)).toBe("the");
    expect(pieceWord("great", has)).toBeUndefined(); // a word-internal piece
    expect(pieceWord("Ġ", has)).toBeUndefined();
    expect(pieceWord("Ġunknownword", has)).toBeUndefined();
  });

  it("gives the seeded rows the init's scale and keeps GloVe's geometry after centring", () => {
    const vocab = { "<s>": 0, Ġgreat: 1, Ġgood: 2, Ġterrible: 3, ĠParis: 4, Ġthe: 5, ing: 6, The: 7 };
    const hidden = 4096; // wide, so the random projection's inner products are close to their expectation
    const { rows, scale, seededPieces } = seededRows(vocab, vectors, hidden, 0);
    expect(seededPieces).toBe(6);
    expect([...rows.keys()]).toEqual([1, 2, 3, 4, 5, 7]);
    // Mean squared component of the scaled rows = 0.02².
    let sq = 0;
    for (const r of rows.values()) for (const v of r) sq += (v * scale) ** 2;
    expect(sq / (rows.size * hidden)).toBeCloseTo(0.02 ** 2, 12);
    // "The" and "Ġthe" share a word, hence a row.
    expect(rows.get(7)).toEqual(rows.get(5));
    // Inner products of the projected rows ≈ hidden × those of the centred vectors (computed here independently).
    const words = ["great", "good", "terrible", "Paris", "the"];
    const mean = [0, 1, 2, 3].map((k) => words.reduce((s, w) => s + vectors[w][k], 0) / words.length);
    const c = (w: string) => vectors[w].map((v, k) => v - mean[k]);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
    const pairs: [number, string, number, string][] = [
      [1, "great", 2, "good"],
      [1, "great", 3, "terrible"],
      [2, "good", 4, "Paris"],
    ];
    for (const [i, wi, j, wj] of pairs) {
      const want = hidden * dot(c(wi), c(wj));
      const norm = hidden * Math.sqrt(dot(c(wi), c(wi)) * dot(c(wj), c(wj)));
      expect(Math.abs(dot(rows.get(i)!, rows.get(j)!) - want) / norm).toBeLessThan(0.1);
    }
  });
});
