/**
 * Issue 22: a kernel job's disk use. The predicted sizes (src/kernels/disk.ts) are checked against the bytes the
 * job actually writes; gradient factors are cached only on request (within the budget, whose default is a share of
 * the free disk, injected here through statfs); a full disk turns caching off, not the job.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { listGroups } from "../../src/kernels/cache-admin.ts";
import { runKernelJob } from "../../src/pipelines/kernel-job.ts";
import { readNpy } from "../../src/util/npy.ts";
import { writeSentenceSplit } from "../helpers/synthetic-data.ts";

// The free space statfs reports for the caches under `inject.root` (real elsewhere).
const disk = vi.hoisted(() => ({ root: "", freeBytes: 0 }));
vi.mock("node:fs", async (orig) => {
  const real = await orig<typeof import("node:fs")>();
  const statfsSync = ((path: string, ...rest: []) =>
    disk.root && String(path).startsWith(disk.root)
      ? { ...real.statfsSync(disk.root), bavail: disk.freeBytes, bsize: 1 }
      : real.statfsSync(path, ...rest)) as typeof real.statfsSync;
  return { ...real, default: { ...real, statfsSync }, statfsSync };
});

// Inject "no space left on device" into the atomic writer after `failAfter` successful writes of cache entries.
const inject = vi.hoisted(() => ({ failAfter: Number.POSITIVE_INFINITY, writes: 0 }));
vi.mock("../../src/util/atomic.ts", async (orig) => {
  const real = await orig<typeof import("../../src/util/atomic.ts")>();
  return {
    ...real,
    writeFileAtomic: async (path: string, data: string | Uint8Array) => {
      if (/\.(factors|kblock)$|\.(run|plan)\.json$/.test(path) && inject.writes++ >= inject.failAfter)
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: "ENOSPC" });
      return real.writeFileAtomic(path, data);
    },
  };
});

const kernel = (dir: string, split: string) =>
  Array.from(readNpy(join(root, dir, "out", `kernel.sgd.${split}.npy`)).data as Float64Array);

const MODEL = join(import.meta.dirname, "../../models/tiny-roberta");
const SENTS = {
  train: ["a great movie", "terrible acting", "it was fine", "great fun , great cast", "dull", "lovely"],
  dev: ["so terrible", "a movie", "fun", "great cast"],
  test: ["great", "not great at all", "acting fine", "terrible fun", "a dull movie , really"],
};

let root: string;
let splitDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "entk-kernel-disk-"));
  splitDir = writeSentenceSplit(join(root, "split"), SENTS);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const bytesIn = (dir: string, ext: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(ext))
        .reduce((a, f) => a + statSync(join(dir, f)).size, 0)
    : 0;

/** The cache's one (task, model) folder. */
const group = (cache: string) => {
  const gs = listGroups(cache);
  expect(gs).toHaveLength(1);
  return join(cache, gs[0]);
};

const job = (
  name: string,
  cacheFactors: boolean | undefined,
  formulas: ("sgd" | "asymmetric_signgd")[] = ["sgd"],
  cacheMax?: number,
) =>
  runKernelJob({
    cacheMax,
    model: MODEL,
    task: "SST-2",
    splitDir,
    formulas,
    out: join(root, name, "out"),
    cacheDir: join(root, name, "cache"),
    cacheFactors,
    quiet: true,
  });

describe("kernel job disk use", () => {
  it("predicts the bytes its factor cache and kernel blocks take, and caches factors only on request", async () => {
    const meta = await job("on", true, ["sgd", "asymmetric_signgd"]);
    const cache = group(join(root, "on", "cache"));
    expect(cache).toMatch(/SST-2--tiny-roberta-[0-9a-f]{8}$/);
    const factors = bytesIn(join(cache, "factors"), ".factors");
    const blocks = bytesIn(join(cache, "kernel-blocks"), ".kblock");
    const nExamples = SENTS.train.length + SENTS.dev.length + SENTS.test.length;
    expect(readdirSync(join(cache, "factors"))).toHaveLength(nExamples);
    // Factors: an upper bound (distinct tokens ≤ T), within 10% of what was written.
    const pf = meta.cache!.predicted_factor_bytes!;
    expect(pf).toBeGreaterThanOrEqual(factors);
    expect(pf).toBeLessThan(1.1 * factors);
    // Kernel blocks: the float64 payload exactly, plus < 1 kB of container per block file.
    const pk = meta.cache!.predicted_kernel_block_bytes!;
    const nBlocks = readdirSync(join(cache, "kernel-blocks")).filter((f) => f.endsWith(".kblock")).length;
    expect(blocks).toBeGreaterThan(pk);
    expect(blocks - pk).toBeLessThan(1000 * nBlocks);
    expect(meta.cache!.factors_cached).toBe(true);

    // Default: kernel blocks cached, factors not.
    const off = await job("off", undefined);
    const offCache = group(join(root, "off", "cache"));
    expect(existsSync(join(offCache, "factors"))).toBe(false);
    expect(bytesIn(join(offCache, "kernel-blocks"), ".kblock")).toBeGreaterThan(0);
    expect(off.cache!.factors_cached).toBe(false);
    // The same kernels either way.
    expect(kernel("off", "test")).toEqual(kernel("on", "test"));
  }, 60_000);

  it("under a cache budget, factors are cached when they fit, and the cache is pruned to the budget", async () => {
    const fit = await job("fit", undefined, ["sgd"], 10 * 2 ** 20);
    expect(fit.cache!.factors_cached).toBe(true);
    const fitCache = group(join(root, "fit", "cache"));
    expect(bytesIn(join(fitCache, "factors"), ".factors")).toBeGreaterThan(0);
    // A budget below the predicted factors: not cached; the kernel blocks written are then pruned to the budget.
    const budget = Math.floor(fit.cache!.predicted_factor_bytes! / 2);
    const tight = await job("tight", undefined, ["sgd"], budget);
    expect(tight.cache!.factors_cached).toBe(false);
    expect(existsSync(join(group(join(root, "tight", "cache")), "factors"))).toBe(false);
    // Reusing the "fit" cache with that budget: LRU-pruned down to it after the job.
    const again = await job("fit", undefined, ["sgd"], budget);
    expect(again.cache!.factors_cached).toBe(false);
    const left = bytesIn(join(fitCache, "factors"), ".factors");
    expect(left + bytesIn(join(fitCache, "kernel-blocks"), "")).toBeLessThanOrEqual(budget);
  }, 60_000);

  it("by default the budget is 10% of the free disk: asked-for factors that do not fit in it are not cached", async () => {
    const free = 10 * (await job("probe", true)).cache!.predicted_factor_bytes!;
    disk.root = root;
    try {
      // 10% of `free` is the factors' size: factors + blocks do not fit; with 20 times the space they do.
      disk.freeBytes = free;
      const small = await job("small-disk", true);
      expect(small.cache!.budget_bytes).toBe(Math.floor(free / 10));
      expect(small.cache!.factors_cached).toBe(false);
      expect(existsSync(join(group(join(root, "small-disk", "cache")), "factors"))).toBe(false);
      disk.freeBytes = 20 * free;
      const big = await job("big-disk", true);
      expect(big.cache!.budget_bytes).toBe(2 * free);
      expect(big.cache!.factors_cached).toBe(true);
      // Not asked for, factors are not cached under the default budget however much room there is.
      expect((await job("big-disk-default", undefined)).cache!.factors_cached).toBe(false);
    } finally {
      disk.root = "";
    }
  }, 60_000);

  it("a full disk while caching turns caching off with one warning; the job completes with the right kernels", async () => {
    const ref = await job("ref", false);
    const warn = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    inject.writes = 0;
    inject.failAfter = 3;
    let messages: string[] = [];
    try {
      const meta = await job("full", true);
      expect(meta.cache!.factors_cached).toBe(false);
    } finally {
      inject.failAfter = Number.POSITIVE_INFINITY;
      messages = warn.mock.calls.map((c) => String(c[0]));
      warn.mockRestore();
    }
    const warnings = messages.filter((m) => m.includes("disk full"));
    expect(warnings).toHaveLength(1);
    // Only the 3 entries written before the disk filled exist; no temporary files stay behind.
    const cache = group(join(root, "full", "cache"));
    const files = ["factors", "kernel-blocks"].flatMap((d) =>
      existsSync(join(cache, d)) ? readdirSync(join(cache, d)) : [],
    );
    expect(files, files.join(" ")).toHaveLength(3);
    expect(ref.splits).toEqual({ train: 6, dev: 4, test: 5 });
    for (const split of ["train", "dev", "test"]) expect(kernel("full", split)).toEqual(kernel("ref", split));
  }, 60_000);
});
