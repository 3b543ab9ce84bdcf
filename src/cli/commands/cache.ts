import type { Command } from "commander";
import { CACHE_KINDS, type CacheKind, cacheInfo, pruneCache } from "../../kernels/cache-admin.ts";
import { formatBytes } from "../../kernels/disk.ts";
import { defaultCacheDir } from "../../pipelines/kernel-job.ts";
import { intArg, memoryArg, usageError } from "../args.ts";

const dirHelp = () => `cache root (default: ${defaultCacheDir()}, or $ENTK_CACHE_DIR)`;

export function registerCache(program: Command): void {
  const cache = program
    .command("cache")
    .summary("show, prune or clear the kernel cache (gradient factors, kernel blocks)")
    .description(
      "the kernel cache: per-example gradient factors (only with --cache-factors) and kernel blocks; entries are " +
        "content-addressed and self-checking, so removing one under a running job only costs its recomputation",
    );
  cache
    .command("info")
    .description("size of the cache by kind, and its location")
    .option("--cache-dir <dir>", dirHelp())
    .action((o: { cacheDir?: string }) => {
      const info = cacheInfo(o.cacheDir ?? defaultCacheDir());
      const lines = [`${info.root}: ${info.total.files} files, ${formatBytes(info.total.bytes)}`];
      for (const k of Object.keys(CACHE_KINDS) as CacheKind[])
        lines.push(`  ${k}: ${info.kinds[k].files} files, ${formatBytes(info.kinds[k].bytes)}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  cache
    .command("prune")
    .description("remove entries unused for DAYS, then least recently used ones until under SIZE")
    .option("--cache-dir <dir>", dirHelp())
    .option("--max-size <size>", "keep at most this much, e.g. 10GB", memoryArg)
    .option("--older-than <days>", "remove entries not used for this many days", intArg(0))
    .action((o: { cacheDir?: string; maxSize?: number; olderThan?: number }, cmd: Command) => {
      if (o.maxSize === undefined && o.olderThan === undefined)
        usageError(cmd, "entk cache prune: give --max-size SIZE and/or --older-than DAYS");
      const r = pruneCache(o.cacheDir ?? defaultCacheDir(), { maxBytes: o.maxSize, olderThanDays: o.olderThan });
      process.stdout.write(`removed ${r.files} files, ${formatBytes(r.bytes)}\n`);
    });
  cache
    .command("clear")
    .description("remove every cache entry")
    .option("--cache-dir <dir>", dirHelp())
    .action((o: { cacheDir?: string }) => {
      const r = pruneCache(o.cacheDir ?? defaultCacheDir(), { maxBytes: 0 });
      process.stdout.write(`removed ${r.files} files, ${formatBytes(r.bytes)}\n`);
    });
}
