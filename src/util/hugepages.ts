/**
 * Transparent huge pages for large allocations (README, "Compute engine": "Huge pages"). onnxruntime-node copies
 * every graph output into a fresh JavaScript buffer; on Linux, glibc serves buffers that large from new mmap'd
 * memory, so each copy first takes one page fault per 4 KiB. The engine's gradient factors are hundreds of megabytes
 * per call, and these faults were half the wall time of a roberta-base factors run (6 batches, 2.96 GiB of outputs:
 * 12.1 s, of which onnxruntime's own run time was 6.5 s). With glibc's tunable `glibc.malloc.hugetlb=1` (glibc ≥
 * 2.35) malloc advises the kernel to back such memory with 2 MiB pages where transparent huge pages are enabled
 * ("always" or "madvise"): the same run took 7.9 s. The tunable is read when a process starts, so the `entk` command
 * sets it in its `#!` line (bin/entk.js, src/cli/bin.ts); a user's own GLIBC_TUNABLES comes after it there and wins.
 * That line needs `env -S` (GNU coreutils ≥ 8.30, as on every Linux that Node 20 supports, glibc ≥ 2.28; BSD and
 * macOS env); other C libraries ignore the variable, and without transparent huge pages the advice changes nothing.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** The glibc tunable that the `entk` command's `#!` line sets (keep the two in step). */
export const MALLOC_HUGEPAGES_TUNABLE = "glibc.malloc.hugetlb=1";

/**
 * Whether GLIBC_TUNABLES asks malloc for huge pages: its last `glibc.malloc.hugetlb` setting is 1 (madvise) or 2
 * (reserved huge pages), as glibc reads the list left to right.
 */
export function mallocHugePages(env: NodeJS.ProcessEnv = process.env): boolean {
  let on = false;
  for (const item of (env.GLIBC_TUNABLES ?? "").split(":")) {
    const [name, value] = item.split("=");
    if (name === "glibc.malloc.hugetlb") on = value === "1" || value === "2";
  }
  return on;
}

/** The kernel's transparent-huge-page mode ("always", "madvise" or "never"), undefined off Linux or if unreadable. */
export function transparentHugePages(): string | undefined {
  try {
    return readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8").match(/\[(\w+)\]/)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * For scripts run without the `entk` command's `#!` line (the benchmarks, through tsx): on Linux, unless
 * GLIBC_TUNABLES already says something about `glibc.malloc.hugetlb`, run this same process again with the tunable
 * and exit with its status, so that a benchmark measures what the command runs. Returns only when no relaunch is
 * needed.
 */
export function relaunchWithHugePages(): void {
  const tunables = process.env.GLIBC_TUNABLES ?? "";
  if (process.platform !== "linux" || tunables.includes("glibc.malloc.hugetlb")) return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, GLIBC_TUNABLES: [MALLOC_HUGEPAGES_TUNABLE, tunables].filter(Boolean).join(":") },
  });
  process.exit(r.status ?? 1);
}
