/**
 * `entk cache info|prune|clear`: the entries of a kernel cache root (src/kernels/cache.ts writes them:
 * `factors/<key>.factors`, `kernel-blocks/<key>.kblock`, `<key>.run.json` and `<key>.plan.json`). Every entry is content-addressed and
 * self-checking, and a reader treats a missing entry as a miss, so deleting one under a running job costs a
 * recomputation, never a wrong result. Temporary files of writes in progress (`.*.tmp`) are never touched.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export const CACHE_KINDS = {
  factors: ".factors",
  "kernel-blocks": ".kblock",
  manifests: ".run.json",
  plans: ".plan.json",
} as const;
export type CacheKind = keyof typeof CACHE_KINDS;
const KIND_DIR: Record<CacheKind, string> = {
  factors: "factors",
  "kernel-blocks": "kernel-blocks",
  manifests: "kernel-blocks",
  plans: "kernel-blocks",
};

export interface CacheEntry {
  path: string;
  kind: CacheKind;
  bytes: number;
  /** Last use in ms: the later of access and modification time (a cache hit touches the file). */
  usedMs: number;
}

/** Every cache entry under `root` (none when it does not exist). */
export function listCacheEntries(root: string): CacheEntry[] {
  const out: CacheEntry[] = [];
  for (const kind of Object.keys(CACHE_KINDS) as CacheKind[]) {
    const dir = join(root, KIND_DIR[kind]);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith(".") || !name.endsWith(CACHE_KINDS[kind])) continue;
      const path = join(dir, name);
      try {
        const st = statSync(path);
        out.push({ path, kind, bytes: st.size, usedMs: Math.max(st.atimeMs, st.mtimeMs) });
      } catch {
        // removed meanwhile (another prune, or a concurrent job's cleanup)
      }
    }
  }
  return out;
}

export interface CacheInfo {
  root: string;
  total: { files: number; bytes: number };
  kinds: Record<CacheKind, { files: number; bytes: number }>;
}

export function cacheInfo(root: string): CacheInfo {
  const kinds = Object.fromEntries(
    (Object.keys(CACHE_KINDS) as CacheKind[]).map((k) => [k, { files: 0, bytes: 0 }]),
  ) as CacheInfo["kinds"];
  const total = { files: 0, bytes: 0 };
  for (const e of listCacheEntries(root)) {
    for (const t of [kinds[e.kind], total]) {
      t.files++;
      t.bytes += e.bytes;
    }
  }
  return { root, total, kinds };
}

export interface PruneOptions {
  /** Keep at most this many bytes, removing least recently used entries first. */
  maxBytes?: number;
  /** Remove entries not used for this many days. */
  olderThanDays?: number;
  /** Current time (tests). */
  nowMs?: number;
}

/** Remove entries by age and then least-recently-used until under the size limit; returns what was removed. */
export function pruneCache(root: string, o: PruneOptions): { files: number; bytes: number } {
  const now = o.nowMs ?? Date.now();
  const entries = listCacheEntries(root).sort((a, b) => a.usedMs - b.usedMs);
  let total = entries.reduce((a, e) => a + e.bytes, 0);
  const removed = { files: 0, bytes: 0 };
  for (const e of entries) {
    const old = o.olderThanDays !== undefined && now - e.usedMs > o.olderThanDays * 86_400_000;
    const over = o.maxBytes !== undefined && total > o.maxBytes;
    if (!old && !over) continue;
    rmSync(e.path, { force: true });
    total -= e.bytes;
    removed.files++;
    removed.bytes += e.bytes;
  }
  return removed;
}
