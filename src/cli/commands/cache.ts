import type { Command } from "commander";
import {
  CACHE_KINDS,
  type CacheKind,
  cacheInfo,
  type PruneOptions,
  type PruneResult,
  pruneCache,
  type Sizes,
} from "../../kernels/cache-admin.ts";
import { describeBudget, resolveCacheBudget } from "../../kernels/cache-budget.ts";
import { formatBytes } from "../../kernels/disk.ts";
import { defaultCacheDir } from "../../pipelines/kernel-job.ts";
import type { LockInfo } from "../../util/lock.ts";
import { intArg, memoryArg, usageError } from "../args.ts";

const dirHelp = () => `cache root (default: ${defaultCacheDir()}, or $ENTK_CACHE_DIR)`;
const size = (s: Sizes) => `${s.files} files, ${formatBytes(s.bytes)}`;
const holder = (u: LockInfo) => `pid ${u.pid} on ${u.host} since ${u.startedAt}${u.what ? ` (${u.what})` : ""}`;

/** Prune under the admin lock, saying when it waits for another prune and which groups running jobs kept. */
async function prune(root: string, o: PruneOptions): Promise<void> {
  const r: PruneResult = await pruneCache(root, {
    ...o,
    onWait: (h) => process.stderr.write(`entk cache: waiting for ${holder(h)}\n`),
  });
  process.stdout.write(`removed ${size(r)}\n`);
  for (const s of r.skipped)
    process.stdout.write(
      `skipped ${size(s)} of ${s.group || "(older layout)"}: in use by ${s.users.map(holder).join("; ")}\n`,
    );
}

export function registerCache(program: Command): void {
  const cache = program
    .command("cache")
    .summary("show, prune or clear the kernel cache (gradient factors, kernel blocks)")
    .description(
      "the kernel cache: per-example gradient factors (only with --cache-factors or under a --cache-max budget) and " +
        "kernel blocks, one folder per task and model; prune and clear leave the folders of running jobs alone",
    );
  cache
    .command("info")
    .description("location and size of the cache by task, model and kind, its budget, and the jobs using it")
    .option("--cache-dir <dir>", dirHelp())
    .option("--json", "machine-readable output")
    .action((o: { cacheDir?: string; json?: boolean }) => {
      const root = o.cacheDir ?? defaultCacheDir();
      const info = cacheInfo(root);
      const budget = resolveCacheBudget(root);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ ...info, budget }, null, 2)}\n`);
        return;
      }
      const kinds = Object.keys(CACHE_KINDS) as CacheKind[];
      const lines = [`location: ${info.root}`, `total: ${size(info.total)}; budget ${describeBudget(budget)}`];
      lines.push("by kind:", ...kinds.map((k) => `  ${k}: ${size(info.kinds[k])}`));
      const sum = (key: "task" | "model") => {
        const m = new Map<string, Sizes>();
        for (const g of info.groups) {
          const s = m.get(g[key]) ?? { files: 0, bytes: 0 };
          s.files += g.files;
          s.bytes += g.bytes;
          m.set(g[key], s);
        }
        return [...m].map(([name, s]) => `  ${name || "(older layout)"}: ${size(s)}`);
      };
      lines.push("by task:", ...sum("task"), "by model:", ...sum("model"), "by task and model:");
      for (const g of info.groups) {
        const parts = kinds.filter((k) => g.kinds[k].files).map((k) => `${k} ${formatBytes(g.kinds[k].bytes)}`);
        lines.push(`  ${g.group || "(older layout)"}: ${size(g)}${parts.length ? ` (${parts.join(", ")})` : ""}`);
        for (const u of g.users) lines.push(`    in use by ${holder(u)}`);
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  cache
    .command("prune")
    .description(
      "remove entries unused for DAYS, then least recently used ones until under SIZE (folders in use are skipped)",
    )
    .option("--cache-dir <dir>", dirHelp())
    .option("--max-size <size>", "keep at most this much, e.g. 10GB", memoryArg)
    .option("--older-than <days>", "remove entries not used for this many days", intArg(0))
    .action(async (o: { cacheDir?: string; maxSize?: number; olderThan?: number }, cmd: Command) => {
      if (o.maxSize === undefined && o.olderThan === undefined)
        usageError(cmd, "entk cache prune: give --max-size SIZE and/or --older-than DAYS");
      await prune(o.cacheDir ?? defaultCacheDir(), { maxBytes: o.maxSize, olderThanDays: o.olderThan });
    });
  cache
    .command("clear")
    .description("remove every cache entry, except in the folders of running jobs")
    .option("--cache-dir <dir>", dirHelp())
    .action(async (o: { cacheDir?: string }) => {
      await prune(o.cacheDir ?? defaultCacheDir(), { maxBytes: 0, what: "entk cache clear" });
    });
}
