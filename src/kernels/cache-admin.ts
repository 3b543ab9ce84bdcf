/**
 * The kernel cache's layout, the locks that make `entk cache prune|clear` safe against running jobs, and the
 * administration (`entk cache info|prune|clear`). One cache root holds one folder per (task, model) group:
 *
 *   <root>/<task>--<model>/factors/<key>.factors           gradient factors (src/kernels/cache.ts writes them)
 *   <root>/<task>--<model>/kernel-blocks/<key>.kblock      kernel blocks, and <key>.run.json / <key>.plan.json
 *   <root>/<task>--<model>/in-use/<pid>-<nonce>.lock       one per job using the group (src/util/lock.ts)
 *   <root>/.admin.lock                                     held by prune/clear, and briefly by a job registering
 *
 * A job registers (useCacheGroup) under the admin lock, so a prune sees every job that started before it and no job
 * starts using a group in the middle of a prune; prune and clear skip the groups in use and say which job holds
 * them. Lock files of jobs that died on this host are removed (stale). Entries are content-addressed and
 * self-checking besides, so removing one under a job that ignores the locks costs a recomputation, never a wrong
 * result. Files of the older flat layout (`<root>/factors/`, `<root>/kernel-blocks/`) are listed under no group
 * and pruned like the rest. Temporary files of writes in progress (`.*.tmp`) are never touched.
 */
import { readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { acquireLock, type Lock, type LockInfo, readLock, removeStaleLocks, tryLock } from "../util/lock.ts";

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
const IN_USE = "in-use";
const ADMIN_LOCK = ".admin.lock";
/** The group of entries in the older flat layout. */
export const NO_GROUP = "";

const part = (s: string) =>
  s
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/-{2,}/g, "-")
    .replace(/^[.-]+/, "_");

/**
 * The group folder of a task and a model: `<task>--<model name>-<first 8 hex digits of its weights key>` (the name
 * alone would merge two local models both called `model`). Entries depend on the weights, not on the name.
 */
export function cacheGroup(task: string, modelName: string, weightsKey: string): string {
  return `${part(task)}--${part(basename(modelName))}-${weightsKey.replace(/[^0-9a-f]/gi, "").slice(0, 8)}`;
}

/** Task and model of a group folder's name (as cacheGroup wrote it). */
export function parseGroup(group: string): { task: string; model: string } {
  const i = group.indexOf("--");
  return i < 0 ? { task: group, model: "" } : { task: group.slice(0, i), model: group.slice(i + 2) };
}

/** Where a group's factors and kernel blocks go. */
export function groupDirs(root: string, group: string): { factors: string; kernelBlocks: string } {
  return { factors: join(root, group, KIND_DIR.factors), kernelBlocks: join(root, group, KIND_DIR["kernel-blocks"]) };
}

export interface CacheEntry {
  path: string;
  kind: CacheKind;
  /** Its (task, model) folder; NO_GROUP for the older flat layout. */
  group: string;
  bytes: number;
  /** Last use in ms: the later of access and modification time (a cache hit touches the file). */
  usedMs: number;
}

function dirNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** The group folders under `root` (none when it does not exist). */
export function listGroups(root: string): string[] {
  const legacy = new Set(Object.values(KIND_DIR));
  return dirNames(root).filter((n) => !n.startsWith(".") && !legacy.has(n));
}

function listIn(base: string, group: string, out: CacheEntry[]): void {
  for (const kind of Object.keys(CACHE_KINDS) as CacheKind[]) {
    const dir = join(base, KIND_DIR[kind]);
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
        out.push({ path, kind, group, bytes: st.size, usedMs: Math.max(st.atimeMs, st.mtimeMs) });
      } catch {
        // removed meanwhile (another prune, or a concurrent job's cleanup)
      }
    }
  }
}

/** Every cache entry under `root` (none when it does not exist). */
export function listCacheEntries(root: string): CacheEntry[] {
  const out: CacheEntry[] = [];
  listIn(root, NO_GROUP, out);
  for (const g of listGroups(root)) listIn(join(root, g), g, out);
  return out;
}

/** The live jobs using a group (stale lock files of dead jobs on this host are removed on the way). */
export function groupUsers(root: string, group: string): LockInfo[] {
  const dir = join(root, group, IN_USE);
  removeStaleLocks(dir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith(".lock")).flatMap((n) => readLock(join(dir, n)) ?? []);
}

export interface WaitOptions {
  /** Told once when another prune or clear holds the cache, with who it is. */
  onWait?: (holder: LockInfo) => void;
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Mark `group` in use by this process until the returned lock is released (or the process exits): prune and clear
 * leave the group alone meanwhile. Waits while a prune or clear runs on `root`.
 */
export async function useCacheGroup(root: string, group: string, what: string, o: WaitOptions = {}): Promise<Lock> {
  const admin = await acquireLock(join(root, ADMIN_LOCK), {
    what: `registering ${what}`,
    onWait: o.onWait,
    pollMs: o.pollMs,
    signal: o.signal,
  });
  try {
    const dir = join(root, group, IN_USE);
    for (;;) {
      const got = tryLock(join(dir, `${process.pid}-${Math.random().toString(36).slice(2, 10)}.lock`), what);
      if ("release" in got) return got;
    }
  } finally {
    admin.release();
  }
}

export interface Sizes {
  files: number;
  bytes: number;
}
export interface GroupInfo extends Sizes {
  group: string;
  task: string;
  model: string;
  kinds: Record<CacheKind, Sizes>;
  /** Jobs using the group now. */
  users: LockInfo[];
}
export interface CacheInfo {
  root: string;
  total: Sizes;
  kinds: Record<CacheKind, Sizes>;
  /** One per group holding entries or in use, largest first; the older flat layout's files under group "". */
  groups: GroupInfo[];
}

const zeroKinds = () =>
  Object.fromEntries((Object.keys(CACHE_KINDS) as CacheKind[]).map((k) => [k, { files: 0, bytes: 0 }])) as Record<
    CacheKind,
    Sizes
  >;

export function cacheInfo(root: string): CacheInfo {
  const kinds = zeroKinds();
  const total = { files: 0, bytes: 0 };
  const groups = new Map<string, GroupInfo>();
  const group = (g: string) => {
    let gi = groups.get(g);
    if (!gi) {
      const { task, model } = g === NO_GROUP ? { task: "", model: "" } : parseGroup(g);
      gi = { group: g, task, model, files: 0, bytes: 0, kinds: zeroKinds(), users: [] };
      groups.set(g, gi);
    }
    return gi;
  };
  for (const g of listGroups(root)) {
    const users = groupUsers(root, g);
    if (users.length) group(g).users = users;
  }
  for (const e of listCacheEntries(root)) {
    const gi = group(e.group);
    for (const t of [kinds[e.kind], total, gi, gi.kinds[e.kind]]) {
      t.files++;
      t.bytes += e.bytes;
    }
  }
  return { root, total, kinds, groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes) };
}

export interface PruneOptions extends WaitOptions {
  /** Keep at most this many bytes, removing least recently used entries first. */
  maxBytes?: number;
  /** Remove entries not used for this many days. */
  olderThanDays?: number;
  /** Current time (tests). */
  nowMs?: number;
  /** What prunes, shown to whoever waits for it (default "entk cache prune"). */
  what?: string;
}

export interface PruneResult extends Sizes {
  /** Entries left because a job uses their group: per group, its size and the jobs. */
  skipped: { group: string; files: number; bytes: number; users: LockInfo[] }[];
}

/**
 * Remove entries by age and then least-recently-used until under the size limit, leaving the groups that running
 * jobs use (they still count towards the size). Holds the admin lock meanwhile (waits for another prune).
 */
export async function pruneCache(root: string, o: PruneOptions): Promise<PruneResult> {
  const admin = await acquireLock(join(root, ADMIN_LOCK), {
    what: o.what ?? "entk cache prune",
    onWait: o.onWait,
    pollMs: o.pollMs,
    signal: o.signal,
  });
  try {
    const now = o.nowMs ?? Date.now();
    const inUse = new Map(listGroups(root).map((g) => [g, groupUsers(root, g)]));
    const entries = listCacheEntries(root).sort((a, b) => a.usedMs - b.usedMs);
    let total = entries.reduce((a, e) => a + e.bytes, 0);
    const removed = { files: 0, bytes: 0 };
    const skipped = new Map<string, PruneResult["skipped"][number]>();
    for (const e of entries) {
      const old = o.olderThanDays !== undefined && now - e.usedMs > o.olderThanDays * 86_400_000;
      const over = o.maxBytes !== undefined && total > o.maxBytes;
      if (!old && !over) continue;
      const users = inUse.get(e.group) ?? [];
      if (users.length) {
        const s = skipped.get(e.group) ?? { group: e.group, files: 0, bytes: 0, users };
        s.files++;
        s.bytes += e.bytes;
        skipped.set(e.group, s);
        continue;
      }
      rmSync(e.path, { force: true });
      total -= e.bytes;
      removed.files++;
      removed.bytes += e.bytes;
    }
    // Empty folders of groups nobody uses (a job registering waits for the admin lock we hold).
    for (const [g, users] of inUse)
      if (!users.length)
        for (const d of [...Object.values(groupDirs(root, g)), join(root, g, IN_USE), join(root, g)])
          try {
            rmdirSync(d);
          } catch {
            // not empty (a foreign or temporary file), or already gone
          }
    return { ...removed, skipped: [...skipped.values()] };
  } finally {
    admin.release();
  }
}
