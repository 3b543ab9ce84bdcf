import { describe, expect, it } from "vitest";
import { lengthBatches } from "../../src/model/prompt-model.ts";

const ofLengths = (ls: number[]) => ls.map((n) => ({ inputIds: new Array(n).fill(5), maskPos: 0 }));

describe("lengthBatches", () => {
  it("sorts by length (stable) and caps examples per batch", () => {
    expect(lengthBatches(ofLengths([5, 3, 5, 2, 9]), 2)).toEqual([[3, 1], [0, 2], [4]]);
  });

  it("caps padded tokens (examples × longest) per batch; an over-long example runs alone", () => {
    // sorted lengths 2, 3, 5, 5, 9, 40 with 12 tokens: [2, 3] (2·3 = 6; adding 5 → 15), [5, 5] (10), [9], [40]
    expect(lengthBatches(ofLengths([5, 3, 5, 2, 9, 40]), Infinity, 12)).toEqual([[3, 1], [0, 2], [4], [5]]);
    // both limits at once: the example cap binds first
    expect(lengthBatches(ofLengths([4, 4, 4, 4]), 3, 100)).toEqual([[0, 1, 2], [3]]);
  });

  it("every index appears exactly once", () => {
    const ls = Array.from({ length: 50 }, (_, i) => 1 + ((i * 37) % 23));
    const flat = lengthBatches(ofLengths(ls), 7, 64).flat();
    expect(flat.slice().sort((a, b) => a - b)).toEqual(ls.map((_, i) => i));
    for (const b of lengthBatches(ofLengths(ls), 7, 64))
      expect(b.length === 1 || b.length * Math.max(...b.map((i) => ls[i])) <= 64).toBe(true);
  });
});
