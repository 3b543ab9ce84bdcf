import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { MALLOC_HUGEPAGES_TUNABLE, mallocHugePages, transparentHugePages } from "../../src/util/hugepages.ts";

describe("huge pages for large buffers", () => {
  it("reads glibc.malloc.hugetlb from GLIBC_TUNABLES as glibc does: the last setting wins", () => {
    expect(mallocHugePages({})).toBe(false);
    expect(mallocHugePages({ GLIBC_TUNABLES: MALLOC_HUGEPAGES_TUNABLE })).toBe(true);
    expect(mallocHugePages({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=2" })).toBe(true);
    expect(mallocHugePages({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=1:" })).toBe(true);
    expect(mallocHugePages({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0" })).toBe(false);
    expect(mallocHugePages({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1" })).toBe(true);
    expect(mallocHugePages({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" })).toBe(false);
  });

  // What the tunable buys: a large buffer backed by 2 MiB pages (one fault each instead of one per 4 KiB).
  const thp = transparentHugePages();
  it.skipIf(process.platform !== "linux" || !(thp === "madvise" || thp === "always"))(
    "with the tunable, a large JavaScript buffer is backed by transparent huge pages",
    () => {
      const code = `const a = new Float32Array(16 * 2 ** 20); a.fill(1);
        const m = require("node:fs").readFileSync("/proc/self/smaps_rollup", "utf8").match(/AnonHugePages:\\s+(\\d+) kB/);
        process.stdout.write(String(Number(m[1]) * 1024));`;
      const huge = (tunables: string) => {
        const r = spawnSync(process.execPath, ["-e", code], {
          encoding: "utf8",
          env: { ...process.env, GLIBC_TUNABLES: tunables },
        });
        expect(r.status, r.stderr).toBe(0);
        return Number(r.stdout);
      };
      // 64 MiB written; most of it in huge pages (the ends of the mapping need not be 2 MiB-aligned).
      expect(huge(MALLOC_HUGEPAGES_TUNABLE)).toBeGreaterThanOrEqual(32 * 2 ** 20);
      if (thp === "madvise") expect(huge("glibc.malloc.hugetlb=0")).toBeLessThan(8 * 2 ** 20);
    },
  );
});
