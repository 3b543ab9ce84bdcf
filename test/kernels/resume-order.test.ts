/**
 * Issue 19 item 9: a resumed kernel run is bit-identical to an uninterrupted one even when the resumed process
 * plans differently (the plan decides the float32 partial sums, so it is stored with the run and reused).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeKernels, type KernelOptions } from "../../src/kernels/compute.ts";
import type { FactorSource } from "../../src/kernels/types.ts";
import type { ExampleGradFactors } from "../../src/model/grad-factors.ts";
import { syntheticExample } from "./synthetic.ts";

const lengths = [3, 5, 2, 4, 6, 1, 3];
const tr = lengths.slice(0, 4).map((T, i) => syntheticExample(100 + i, T, 2));
const dev = lengths.map((T, i) => syntheticExample(200 + i, T + 1, 2));
const NAMES = ["sgd", "signgd", "asymmetric_signgd", "asymmetric_signgd_flipped"] as const;

function keyed(name: string, exs: ExampleGradFactors[], onLoad?: () => void): FactorSource {
  return {
    size: exs.length,
    keys: exs.map((_, i) => `${name}-${i}`),
    load: async (s, e) => {
      onLoad?.();
      return exs.slice(s, e);
    },
  };
}

describe("kernel summation order", () => {
  it("does not depend on what the cache held: a resume that plans differently is bit-identical", async () => {
    const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "entk-korder-")));
    try {
      const base: KernelOptions = {
        formulas: ["sgd", "signgd", "asymmetric_signgd"],
        memoryBytes: 2 ** 30,
        quiet: true,
      };
      const small = { ...base, maxEvalBlock: 2, planOverride: { workBytes: 2000, trainBlock: 3 } };
      const ref = await computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, { ...small, cacheDir: dirs[0] });
      // Another plan sums in another order: the values differ in the last bits (so the check below can fail).
      const other = await computeKernels(
        keyed("tr", tr),
        { dev: keyed("dev", dev) },
        { ...base, maxEvalBlock: 2, cacheDir: dirs[2] },
      );
      expect(Array.from(other.kernels.dev.sgd!)).not.toEqual(Array.from(ref.kernels.dev.sgd!));

      const ac = new AbortController();
      let loads = 0;
      const onLoad = () => {
        if (++loads === 2) ac.abort();
      };
      await expect(
        computeKernels(
          keyed("tr", tr),
          { dev: keyed("dev", dev, onLoad) },
          { ...small, cacheDir: dirs[1], signal: ac.signal },
        ),
      ).rejects.toThrow(/abort/i);
      // The resumed process plans on its own (here: no override, as when the memory it measures differs).
      const resumed = await computeKernels(
        keyed("tr", tr),
        { dev: keyed("dev", dev) },
        { ...base, maxEvalBlock: 2, cacheDir: dirs[1] },
      );
      expect(resumed.blocks.cached).toBeGreaterThan(0);
      expect(resumed.blocks.computed).toBeGreaterThan(0);
      for (const split of ["train", "dev"])
        for (const n of NAMES)
          expect(Array.from(resumed.kernels[split][n]!)).toEqual(Array.from(ref.kernels[split][n]!));
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
