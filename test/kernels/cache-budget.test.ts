/**
 * Issue 22: the kernel cache's budget, decided in one place (src/kernels/cache-budget.ts): an explicit size, else
 * $ENTK_CACHE_MAX, else min(20 GiB, 10% of the free disk at the cache location), with injected free-space values;
 * and whether a job caches its gradient factors under it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CacheBudget,
  DEFAULT_CACHE_BUDGET_TEXT,
  defaultCacheBudget,
  describeBudget,
  factorCaching,
  freeDiskBytes,
  resolveCacheBudget,
} from "../../src/kernels/cache-budget.ts";

const GiB = 2 ** 30;

describe("cache budget", () => {
  it("defaults to 10% of the free disk, at most 20 GiB", () => {
    expect(defaultCacheBudget(50 * GiB)).toBe(5 * GiB);
    expect(defaultCacheBudget(199 * GiB)).toBe(Math.floor(19.9 * GiB));
    expect(defaultCacheBudget(200 * GiB)).toBe(20 * GiB);
    expect(defaultCacheBudget(5000 * GiB)).toBe(20 * GiB);
    expect(defaultCacheBudget(0)).toBe(0);
    expect(DEFAULT_CACHE_BUDGET_TEXT).toBe("min(20.0 GiB, 10% of the free disk at the cache location)");
  });

  it("an explicit size wins over $ENTK_CACHE_MAX, which wins over the default share of the injected free space", () => {
    const asked: string[] = [];
    const freeBytes = (p: string) => {
      asked.push(p);
      return 30 * GiB;
    };
    const env = { ENTK_CACHE_MAX: "2GB" };
    expect(resolveCacheBudget("/c", 123, { env, freeBytes })).toEqual({ bytes: 123, source: "option" });
    expect(resolveCacheBudget("/c", undefined, { env, freeBytes })).toEqual({ bytes: 2 * GiB, source: "env" });
    expect(asked).toEqual([]);
    const d = resolveCacheBudget("/c", undefined, { env: {}, freeBytes });
    expect(d).toEqual({ bytes: 3 * GiB, source: "default", freeBytes: 30 * GiB });
    expect(asked).toEqual(["/c"]);
    expect(describeBudget(d)).toBe(`3.0 GiB (default: ${DEFAULT_CACHE_BUDGET_TEXT}, 30.0 GiB free)`);
    expect(() => resolveCacheBudget("/c", undefined, { env: { ENTK_CACHE_MAX: "lots" }, freeBytes })).toThrow(
      /ENTK_CACHE_MAX: expected a size like 8GB/,
    );
  });

  it("measures the free space of the nearest existing folder, as df does", () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-budget-"));
    try {
      const ours = freeDiskBytes(join(dir, "not", "yet", "there"));
      const df = Number(execFileSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" }).split("\n")[1]);
      // Other processes write meanwhile: equal within 1%.
      expect(Math.abs(ours - df)).toBeLessThan(0.01 * df + 2 ** 20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("factors are cached when asked and they fit, or under an explicit budget with room; never by the default", () => {
    const budget = (bytes: number, source: CacheBudget["source"] = "option"): CacheBudget => ({ bytes, source });
    const job = { cacheBytes: 600, factorBytes: 300, kernelBlockBytes: 50 };
    // Asked: this job's factors and blocks must fit (older entries are evicted after it).
    expect(factorCaching({ ...job, requested: true, budget: budget(350, "default") }).cache).toBe(true);
    const over = factorCaching({ ...job, requested: true, budget: budget(349, "default") });
    expect(over.cache).toBe(false);
    expect(over.why).toMatch(/requested, but over the budget 349 B \(default/);
    // Not asked: the default budget only bounds the cache.
    expect(factorCaching({ ...job, budget: budget(10 ** 12, "default") })).toMatchObject({ cache: false });
    // Not asked, explicit budget: when the cache as it is plus the factors fit.
    expect(factorCaching({ ...job, budget: budget(900, "env") }).cache).toBe(true);
    expect(factorCaching({ ...job, budget: budget(899) }).cache).toBe(false);
    expect(factorCaching({ ...job, requested: false, budget: budget(10 ** 12) }).cache).toBe(false);
  });
});
