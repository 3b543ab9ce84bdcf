/** Issue 22: `entk cache info|prune|clear` over a cache root, least recently used first. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { readCacheEntry } from "../../src/kernels/cache.ts";
import { cacheInfo, pruneCache } from "../../src/kernels/cache-admin.ts";

let root: string;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 31);

/** A cache entry of `bytes` bytes last used `daysAgo` days before NOW. */
function entry(rel: string, bytes: number, daysAgo: number) {
  const path = join(root, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, new Uint8Array(bytes));
  const t = new Date(NOW - daysAgo * DAY);
  utimesSync(path, t, t);
  return path;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "entk-cache-admin-"));
  entry("factors/a.factors", 1000, 10);
  entry("factors/b.factors", 2000, 5);
  entry("factors/c.factors", 3000, 1);
  entry("kernel-blocks/x.kblock", 400, 20);
  entry("kernel-blocks/m.run.json", 50, 2);
  // A write in progress and a foreign file: never counted, never removed.
  entry("factors/.d.factors.123.abcd.tmp", 700, 30);
  entry("kernel-blocks/notes.txt", 9, 30);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe("kernel cache administration", () => {
  it("info sums sizes by kind", () => {
    const info = cacheInfo(root);
    expect(info.total).toEqual({ files: 5, bytes: 6450 });
    expect(info.kinds.factors).toEqual({ files: 3, bytes: 6000 });
    expect(info.kinds["kernel-blocks"]).toEqual({ files: 1, bytes: 400 });
    expect(info.kinds.manifests).toEqual({ files: 1, bytes: 50 });
  });

  it("prune --older-than removes entries unused for that long", () => {
    expect(pruneCache(root, { olderThanDays: 7, nowMs: NOW })).toEqual({ files: 2, bytes: 1400 });
    expect(readdirSync(join(root, "factors")).sort()).toEqual([".d.factors.123.abcd.tmp", "b.factors", "c.factors"]);
  });

  it("prune --max-size removes least recently used first; a read counts as a use", () => {
    // Reading a (10 days old) makes it the most recently used entry.
    expect(readCacheEntry(join(root, "factors/a.factors"))?.length).toBe(1000);
    // 6450 bytes → ≤ 4100: x (20 d, 400) then b (5 d, 2000) go; a (just read), m and c stay.
    expect(pruneCache(root, { maxBytes: 4100, nowMs: NOW })).toEqual({ files: 2, bytes: 2400 });
    expect(existsSync(join(root, "factors/a.factors"))).toBe(true);
    expect(existsSync(join(root, "factors/b.factors"))).toBe(false);
    expect(cacheInfo(root).total).toEqual({ files: 3, bytes: 4050 });
  });

  it("a reader treats an entry removed under it as a miss", () => {
    expect(readCacheEntry(join(root, "factors/gone.factors"))).toBeUndefined();
  });

  it("entk cache info / prune / clear", async () => {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["node", "entk", "cache", "info", "--cache-dir", root])).toBe(0);
    expect(out).toContain("5 files, 6.3 KiB");
    expect(out).toMatch(/factors: 3 files, 5\.9 KiB/);
    expect(await main(["node", "entk", "cache", "prune", "--cache-dir", root])).toBe(2);
    expect(await main(["node", "entk", "cache", "prune", "--cache-dir", root, "--max-size", "5000"])).toBe(0);
    expect(cacheInfo(root).total.bytes).toBeLessThanOrEqual(5000);
    expect(await main(["node", "entk", "cache", "clear", "--cache-dir", root])).toBe(0);
    expect(cacheInfo(root).total).toEqual({ files: 0, bytes: 0 });
    expect(existsSync(join(root, "factors/.d.factors.123.abcd.tmp"))).toBe(true);
  });
});
