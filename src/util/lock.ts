import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cleanStaleTemps, pidAlive, tempPathFor } from "./atomic.ts";
import { ensureDirSync, listDir } from "./io.ts";

/**
 * Advisory lock files, for directories that two entk processes may share (a kernel cache entry, a fine-tuning
 * output directory, a sweep job). A lock is a small JSON file `{pid, host, startedAt, nonce, what}` created
 * atomically (written to a temp file, then hard-linked to the lock path, which fails if the lock exists).
 *
 *   const lock = await acquireLock(join(dir, ".entk.lock"), { what: "entk finetune" });
 *   try { ... } finally { lock.release(); }
 *
 * - `tryLock(path)` returns the lock, or the holder's `LockInfo` when another live process has it.
 * - `acquireLock(path, {wait})` waits for the holder (polling; `onWait` is told who it is once) or, with
 *   `wait: false`, throws a `LockHeldError` naming the holder (pid, host, since when, what it runs).
 * - A lock whose holder is on this host and no longer alive is stale: it is reclaimed silently. A lock held on
 *   another host is never reclaimed automatically (the message names the file to delete).
 * - Locks are released on `release()` and on process exit; a SIGKILL leaves the file, which the next taker
 *   reclaims as stale.
 * Locks are advisory: they only exclude processes that take them.
 */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** What holds it (e.g. "entk sweep runs/quick"). */
  what?: string;
  nonce: string;
}

export interface Lock {
  readonly path: string;
  readonly info: LockInfo;
  /** Remove the lock file if it is still ours (idempotent). */
  release(): void;
}

export class LockHeldError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockInfo,
  ) {
    super(`${path}: ${describeHolder(holder)}`);
  }
}

const held = new Set<Lock>();
let exitHook = false;

/** "in use by pid 123 on host h since 2026-…(entk sweep …)" plus what to do. */
export function describeHolder(h: LockInfo): string {
  return (
    `in use by pid ${h.pid} on host ${h.host} since ${h.startedAt}${h.what ? ` (${h.what})` : ""}; ` +
    "wait for it to finish, or delete the lock file if that process is gone"
  );
}

/** The holder recorded in a lock file; undefined when there is none (or it cannot be parsed). */
export function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as LockInfo;
    return typeof v.pid === "number" && typeof v.host === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A lock whose holder ran on this host and is gone (or whose file is unreadable garbage). */
export function isStale(info: LockInfo | undefined): boolean {
  return info === undefined || (info.host === hostname() && !pidAlive(info.pid));
}

/** Take the lock if free (or stale); otherwise return the live holder's info. */
export function tryLock(path: string, what?: string): Lock | LockInfo {
  ensureDirSync(dirname(path));
  // A taker killed between writing its temp below and removing it left that temp: the next taker removes it.
  cleanStaleTemps(dirname(path));
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...(what ? { what } : {}),
    nonce: randomBytes(8).toString("hex"),
  };
  const tmp = tempPathFor(path);
  writeFileSync(tmp, JSON.stringify(info));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, path);
        return register(path, info);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const holder = readLock(path);
      if (holder && !isStale(holder)) return holder;
      if (!holder && attempt === 0) {
        // Written by link, a lock file is complete when it exists; an unreadable one is garbage, unless it was
        // released and retaken between our two calls — look once more before removing it.
        continue;
      }
      reclaim(path, holder);
    }
    const holder = readLock(path);
    if (holder) return holder;
    throw new Error(`${path}: cannot take the lock (it keeps changing)`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Remove a stale lock. It is first renamed to a unique name, so of two processes reclaiming the same stale lock only
 * one removes it; if what was renamed is not the stale lock we read (another process took the lock in between), it
 * is put back.
 */
function reclaim(path: string, stale: LockInfo | undefined): void {
  const grave = tempPathFor(path, "old");
  try {
    renameSync(path, grave);
  } catch {
    return; // someone else reclaimed or released it
  }
  const moved = readLock(grave);
  if (moved && stale && moved.nonce !== stale.nonce && !isStale(moved)) {
    try {
      linkSync(grave, path);
    } catch {
      // the path was taken again meanwhile; the live holder we moved keeps running unaware (advisory lock)
    }
  }
  rmSync(grave, { force: true });
}

function register(path: string, info: LockInfo): Lock {
  const lock: Lock = {
    path,
    info,
    release() {
      if (!held.delete(lock)) return;
      if (readLock(path)?.nonce === info.nonce)
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
    },
  };
  held.add(lock);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}

/** Remove the `*.lock` files in `dir` whose holders are stale (this host, process gone); returns their paths. */
export function removeStaleLocks(dir: string): string[] {
  const names = listDir(dir);
  const removed: string[] = [];
  for (const n of names) {
    if (!n.endsWith(".lock")) continue;
    const path = join(dir, n);
    const info = readLock(path);
    if (info && isStale(info)) {
      reclaim(path, info);
      removed.push(path);
    }
  }
  return removed;
}

export interface AcquireOptions {
  /** What the holder is doing, shown to whoever waits for the lock. */
  what?: string;
  /** true (default): wait until the lock is free; false: throw LockHeldError at once; a number: wait up to ms. */
  wait?: boolean | number;
  /** Called once, when the lock is found held, with the holder (e.g. to print "waiting for pid …"). */
  onWait?: (holder: LockInfo) => void;
  /** Poll interval in ms (default 200). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Take a lock, waiting for (or refusing, see `wait`) a live holder. */
export async function acquireLock(path: string, opts: AcquireOptions = {}): Promise<Lock> {
  const wait = opts.wait ?? true;
  const deadline = wait === true ? Number.POSITIVE_INFINITY : wait === false ? 0 : Date.now() + wait;
  let told = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    const got = tryLock(path, opts.what);
    if ("release" in got) return got;
    if (Date.now() >= deadline) throw new LockHeldError(path, got);
    if (!told) {
      told = true;
      opts.onWait?.(got);
    }
    await sleep(opts.pollMs ?? 200);
  }
}

/** Run `fn` holding the lock at `path`. */
export async function withLock<T>(path: string, opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
