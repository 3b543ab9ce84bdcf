/**
 * The kernel cache's size budget (README "Disk use"), decided here and nowhere else: an explicit size (the caller's
 * option, e.g. `--cache-max`), else $ENTK_CACHE_MAX, else the default, a modest share of the free disk where the
 * cache lives: min(DEFAULT_CACHE_CAP, DEFAULT_CACHE_SHARE × free bytes), measured when a job starts.
 */
import { statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { formatBytes } from "./disk.ts";
import { parseBytes } from "./plan.ts";

/** The default budget never exceeds this (20 GiB: about one roberta-base test set's factors, README "Disk use"). */
export const DEFAULT_CACHE_CAP = 20 * 2 ** 30;
/** ... nor this share of the free space at the cache location. */
export const DEFAULT_CACHE_SHARE = 0.1;

/** "min(20.0 GiB, 10% of the free disk)": the default, in words (for help texts and logs). */
export const DEFAULT_CACHE_BUDGET_TEXT = `min(${formatBytes(DEFAULT_CACHE_CAP)}, ${DEFAULT_CACHE_SHARE * 100}% of the free disk at the cache location)`;

export interface CacheBudget {
  bytes: number;
  /** Where it came from: the caller's explicit size, $ENTK_CACHE_MAX, or the default share of `freeBytes`. */
  source: "option" | "env" | "default";
  /** Free bytes at the cache location (only for the default). */
  freeBytes?: number;
}

/** The default budget for this much free space. */
export function defaultCacheBudget(freeBytes: number): number {
  return Math.max(0, Math.min(DEFAULT_CACHE_CAP, Math.floor(DEFAULT_CACHE_SHARE * freeBytes)));
}

/** Bytes available to this user on the file system holding `path` (or its nearest existing ancestor). */
export function freeDiskBytes(path: string): number {
  let p = resolve(path);
  for (;;) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize;
    } catch (err) {
      const parent = dirname(p);
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === p) throw err;
      p = parent;
    }
  }
}

/** The cache budget from $ENTK_CACHE_MAX (a size like 50GB); undefined when unset. */
export function envCacheMax(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return env.ENTK_CACHE_MAX ? parseBytes(env.ENTK_CACHE_MAX, "ENTK_CACHE_MAX") : undefined;
}

/** The budget of the cache at `root`: `explicit`, else $ENTK_CACHE_MAX, else the default share of its free disk. */
export function resolveCacheBudget(
  root: string,
  explicit?: number,
  o: { env?: NodeJS.ProcessEnv; freeBytes?: (path: string) => number } = {},
): CacheBudget {
  if (explicit !== undefined) return { bytes: explicit, source: "option" };
  const env = envCacheMax(o.env);
  if (env !== undefined) return { bytes: env, source: "env" };
  const freeBytes = (o.freeBytes ?? freeDiskBytes)(root);
  return { bytes: defaultCacheBudget(freeBytes), source: "default", freeBytes };
}

/** "20.0 GiB (default: 10% of 200.0 GiB free)", "5.0 GiB ($ENTK_CACHE_MAX)", "5.0 GiB (--cache-max)". */
export function describeBudget(b: CacheBudget, optionName = "--cache-max"): string {
  const why =
    b.source === "option"
      ? optionName
      : b.source === "env"
        ? "$ENTK_CACHE_MAX"
        : `default: ${DEFAULT_CACHE_BUDGET_TEXT}, ${formatBytes(b.freeBytes ?? 0)} free`;
  return `${formatBytes(b.bytes)} (${why})`;
}

/**
 * Whether a job caches its gradient factors. Asked for (`requested` true): when its factors and kernel blocks fit in
 * the budget (older entries are evicted, least recently used first, after the job). Not asked either way: only under
 * an explicit budget (option or $ENTK_CACHE_MAX), when the cache as it is plus the factors fit; the default budget
 * only bounds the cache, it does not turn factor caching on. `requested` false: never.
 */
export function factorCaching(o: {
  requested?: boolean;
  budget: CacheBudget;
  /** Bytes the cache holds now. */
  cacheBytes: number;
  factorBytes: number;
  kernelBlockBytes: number;
}): { cache: boolean; why: string } {
  const b = describeBudget(o.budget);
  if (o.requested === false) return { cache: false, why: "not requested" };
  if (o.requested) {
    const fit = o.factorBytes + o.kernelBlockBytes <= o.budget.bytes;
    return { cache: fit, why: fit ? `requested, within the budget ${b}` : `requested, but over the budget ${b}` };
  }
  if (o.budget.source === "default") return { cache: false, why: "not requested (the default: kernel blocks only)" };
  const fit = o.cacheBytes + o.factorBytes <= o.budget.bytes;
  return { cache: fit, why: fit ? `they fit in the budget ${b}` : `the cache would exceed the budget ${b}` };
}
