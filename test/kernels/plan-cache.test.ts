import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cachedFactorSource,
  decodeContainer,
  decodeFactors,
  encodeContainer,
  encodeFactors,
} from "../../src/kernels/cache.ts";
import { parseBytes, planKernels } from "../../src/kernels/plan.ts";
import { syntheticExample } from "./synthetic.ts";

describe("planner", () => {
  const base = { nTrain: 32, trainBytes: 1e9, evalExampleBytes: 3e7, nEval: 872, C: 2, maxDIn: 3072 };
  it("keeps train factors + one eval block + work space within the budget, independent of the eval count", () => {
    const p = planKernels({ ...base, memoryBytes: 4e9 });
    expect(p.evalBlock).toBe(50); // half of the 3 GB left after the train factors, 30 MB each
    expect(base.trainBytes + p.evalBlock * base.evalExampleBytes + p.workBytes).toBeLessThanOrEqual(4e9);
    const q = planKernels({ ...base, nEval: 100_000, memoryBytes: 4e9 });
    expect(q).toEqual(p);
    // Memory the model and runtime already hold counts against the budget.
    expect(planKernels({ ...base, memoryBytes: 4e9, baselineBytes: 1e9 }).evalBlock).toBe(33);
    expect(() => planKernels({ ...base, memoryBytes: 2e9, baselineBytes: 1e9 })).toThrow(
      /the model and runtime already use 953\.7 MiB/,
    );
    const tight = planKernels({ ...base, memoryBytes: 1.2e9 });
    expect(tight.evalBlock).toBe(3);
    expect(tight.trainBlock).toBe(32);
  });
  it("refuses a budget below the smallest workable block, naming the sizes", () => {
    expect(() => planKernels({ ...base, memoryBytes: 1.01e9 })).toThrow(
      /--memory 963\.2 MiB is too small: the 32 train examples' gradient factors take 953\.7 MiB, one eval example 28\.6 MiB/,
    );
  });
  it("parses sizes and rejects garbage with the flag named", () => {
    expect(parseBytes("8GB")).toBe(8 * 2 ** 30);
    expect(parseBytes("512mib")).toBe(512 * 2 ** 20);
    expect(parseBytes("1.5g")).toBe(1.5 * 2 ** 30);
    expect(parseBytes("1000")).toBe(1000);
    expect(() => parseBytes("lots")).toThrow(/--memory: expected a size like 8GB/);
  });
});

describe("cache files", () => {
  it("containers round-trip and reject truncated or altered bytes", () => {
    const buf = encodeContainer({ a: 1 }, [new Float64Array([1.5, -2]), new Int32Array([7]), new Float32Array([3])]);
    const back = decodeContainer(buf)!;
    expect(back.header).toEqual({ a: 1 });
    expect(back.arrays.map((a) => Array.from(a))).toEqual([[1.5, -2], [7], [3]]);
    expect(decodeContainer(buf.subarray(0, buf.length - 1))).toBeUndefined();
    const bad = buf.slice();
    bad[bad.length - 40] ^= 1;
    expect(decodeContainer(bad)).toBeUndefined();
  });

  it("factors round-trip, keeping shared input arrays shared", () => {
    const ex = syntheticExample(5, 4, 2);
    const back = decodeFactors(encodeFactors(ex))!;
    expect(back.linears[0].X).toBe(back.linears[1].X);
    expect(Array.from(back.linears[2].delta)).toEqual(Array.from(ex.linears[2].delta));
    expect(Array.from(back.sparse[0].rows)).toEqual(Array.from(ex.sparse[0].rows));
    expect(back.zero).toEqual(ex.zero);
  });

  it("cachedFactorSource computes each example once and recomputes a corrupt file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-fcache-"));
    try {
      const exs = [0, 1, 2, 3].map((i) => syntheticExample(i, 3, 2));
      const computed: number[] = [];
      const src = {
        size: 4,
        keys: ["a", "b", "c", "d"],
        load: async (s: number, e: number) => {
          for (let i = s; i < e; i++) computed.push(i);
          return exs.slice(s, e);
        },
      };
      const c1 = cachedFactorSource(src, dir);
      await c1.load(1, 3);
      expect(computed).toEqual([1, 2]);
      const c2 = cachedFactorSource(src, dir);
      const got = await c2.load(0, 4);
      expect(computed).toEqual([1, 2, 0, 3]);
      expect(c2.hits).toBe(2);
      expect(Array.from(got[2].dense[1].values)).toEqual(Array.from(exs[2].dense[1].values));
      writeFileSync(join(dir, "b.factors"), Buffer.alloc(64));
      await cachedFactorSource(src, dir).load(0, 4);
      expect(computed).toEqual([1, 2, 0, 3, 1]);
      expect(readdirSync(dir).sort()).toEqual(["a.factors", "b.factors", "c.factors", "d.factors"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
