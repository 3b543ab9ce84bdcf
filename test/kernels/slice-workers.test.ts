import { describe, expect, it } from "vitest";
import type { Pair } from "../../src/kernels/ort-graphs.ts";
import { contractLayer } from "../../src/kernels/slice-workers.ts";
import { syntheticExample } from "./synthetic.ts";

describe("contractLayer in worker threads", () => {
  it("a task that fails in a worker rejects with the worker's error, and the next call is unaffected", async () => {
    const tr = [3, 5, 2].map((T, i) => syntheticExample(300 + i, T, 2));
    const ev = [4, 1, 6, 2].map((T, i) => syntheticExample(400 + i, T, 2));
    // Layer 2 is the 6 → 10 FFN linear; slices of 2 columns give 5 slices for the workers to share.
    const run = (pairs: Pair[], workers: number) => contractLayer([tr], [ev], 2, 2, 2, pairs, workers);
    // An unknown pair builds a graph without outputs, which onnxruntime refuses inside the workers.
    await expect(run(["XX" as Pair], 2)).rejects.toThrow(/kernel contraction worker/);
    const want = await run(["PP", "SS"], 1);
    const got = await run(["PP", "SS"], 2);
    for (const p of ["PP", "SS"] as const) {
      const a = want[0][p]!;
      const b = got[0][p]!;
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 9);
    }
  });
});
