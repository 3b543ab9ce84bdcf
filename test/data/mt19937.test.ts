import { describe, expect, it } from "vitest";
import { MT19937 } from "../../src/data/mt19937.ts";

// Test vectors from numpy's legacy RandomState (docs/protocol.md §3, MANIFEST.md).
describe("MT19937 / numpy legacy RandomState", () => {
  it("seed(42) first three uint32", () => {
    const m = new MT19937(42);
    expect([m.nextUint32(), m.nextUint32(), m.nextUint32()]).toEqual([1608637542, 3421126067, 4083286876]);
  });

  it("shuffle(range(10)) for seeds 13, 42, 100", () => {
    expect(new MT19937(13).permutation(10)).toEqual([3, 5, 6, 1, 4, 7, 8, 9, 0, 2]);
    expect(new MT19937(42).permutation(10)).toEqual([8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
    expect(new MT19937(100).permutation(10)).toEqual([7, 6, 1, 5, 4, 2, 0, 3, 9, 8]);
  });

  it("permutation(N)[:k] for the 1k-test draws", () => {
    expect(new MT19937(42).permutation(2000).slice(0, 8)).toEqual([1860, 353, 1333, 905, 1289, 1273, 938, 1731]);
    expect(new MT19937(42).permutation(9815).slice(0, 5)).toEqual([3344, 3852, 5009, 5398, 2335]);
    expect(new MT19937(42).permutation(9842).slice(0, 5)).toEqual([7988, 7120, 106, 439, 2420]);
    expect(new MT19937(42).permutation(40430).slice(0, 5)).toEqual([27957, 39753, 24983, 13985, 39273]);
  });

  it("randomInterval stays in range and rejects bad seeds", () => {
    const m = new MT19937(7);
    for (let i = 0; i < 1000; i++) {
      const v = m.randomInterval(5);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(5);
    }
    expect(m.randomInterval(0)).toBe(0);
    expect(() => new MT19937(-1)).toThrow(/seed must be an integer/);
  });
});
