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
import { ARENA_FACTOR, MAX_WORK_BYTES, parseBytes, planKernels, RESERVE_FRACTION } from "../../src/kernels/plan.ts";
import { expectOptionError } from "../helpers/option-error.ts";
import { syntheticExample } from "./synthetic.ts";

describe("planner", () => {
  const base = { nTrain: 32, trainBytes: 1e9, evalExampleBytes: 3e7, nEval: 872, C: 2, maxDIn: 3072 };
  const sum = (p: ReturnType<typeof planKernels>) => Object.values(p.parts!).reduce((a, b) => a + b, 0);
  it("counts train factors, one eval block, the contraction arena and a reserve, independent of the eval count", () => {
    const p = planKernels({ ...base, memoryBytes: 4e9 });
    // Reserve 4e9/16 = 2.5e8; free 4e9 − 1e9 − 2.5e8 = 2.75e9; work = the 512 MiB cap (< free/4), arena twice that;
    // eval block ⌊(2.75e9 − 2^30) / 3e7⌋ = 55.
    expect(ARENA_FACTOR).toBe(2);
    expect(p.workBytes).toBe(MAX_WORK_BYTES);
    expect(p.parts).toEqual({
      baseline: 0,
      train: 1e9,
      evalBlock: 55 * 3e7,
      arena: 2 * MAX_WORK_BYTES,
      reserve: 4e9 * RESERVE_FRACTION,
    });
    expect(p.evalBlock).toBe(55);
    expect(sum(p)).toBeLessThanOrEqual(4e9);
    const q = planKernels({ ...base, nEval: 100_000, memoryBytes: 4e9 });
    expect(q).toEqual(p);
  });
  it("counts the measured baseline and shrinks the work space when memory is tight", () => {
    // free = 4e9 − 1e9 − 1e9 − 2.5e8 = 1.75e9: work = free/4 = 4.375e8, arena 8.75e8, block ⌊8.75e8 / 3e7⌋ = 29.
    const p = planKernels({ ...base, memoryBytes: 4e9, baselineBytes: 1e9 });
    expect(p.workBytes).toBe(4.375e8);
    expect(p.parts!.arena).toBe(8.75e8);
    expect(p.evalBlock).toBe(29);
    expect(sum(p)).toBeLessThanOrEqual(4e9);
    expect(() => planKernels({ ...base, memoryBytes: 2e9, baselineBytes: 1e9 })).toThrow(
      /the model and runtime already use 953\.7 MiB/,
    );
    // Reserve = the 128 MiB minimum; free 1.3e9 − 1e9 − 2^27 = 165782272: work free/4, arena free/2, 2 examples.
    const tight = planKernels({ ...base, memoryBytes: 1.3e9 });
    expect(tight.workBytes).toBe(165782272 / 4);
    expect(tight.evalBlock).toBe(2);
    expect(tight.trainBlock).toBe(32);
    expect(sum(tight)).toBeLessThanOrEqual(1.3e9);
  });
  it("refuses a budget below the smallest workable block, naming the sizes", () => {
    // Need 1e9 + 3e7 + 2·(4·3072·2·2·6) + 2^27 = 1164807552 bytes.
    expectOptionError(
      () => planKernels({ ...base, memoryBytes: 1164807551 }),
      "memory",
      /^memory 1110\.8 MiB is too small: the 32 train examples' gradient factors take 953\.7 MiB, one eval example 28\.6 MiB, the smallest contraction work space 0\.6 MiB and the reserve 128\.0 MiB \(at least 1110\.8 MiB in all\)/,
    );
    // At exactly the need: one eval example and the smallest work space (one output row per side).
    const least = planKernels({ ...base, memoryBytes: 1164807552 });
    expect([least.evalBlock, least.workBytes]).toEqual([1, 4 * 3072 * 2 * 2 * 6]);
    expect(sum(least)).toBe(1164807552);
  });
  it("parses sizes and rejects garbage with the flag named", () => {
    expect(parseBytes("8GB")).toBe(8 * 2 ** 30);
    expect(parseBytes("512mib")).toBe(512 * 2 ** 20);
    expect(parseBytes("1.5g")).toBe(1.5 * 2 ** 30);
    expect(parseBytes("1000")).toBe(1000);
    expect(expectOptionError(() => parseBytes("lots"), "memory", /^memory: expected a size like 8GB/).detail).toBe(
      'expected a size like 8GB or 512MB, got "lots"',
    );
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
