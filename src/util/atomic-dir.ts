import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { cleanStaleTemps, tempPathFor } from "./atomic.ts";
import { ensureDir, ioError } from "./io.ts";

/**
 * Directories that change all at once. `beginDirAtomic(dir)` creates a hidden sibling temp directory right away
 * (so an unwritable destination fails before any work, naming the path); the caller fills `tmp`, then `commit()`
 * swaps it in with two renames: `dir` → hidden `.old` sibling, `tmp` → `dir`, and removes the old one. A reader
 * sees the previous complete directory or the new complete one, never a mix of both; a kill between the two
 * renames leaves no `dir` (the old one waits in its hidden sibling, removed as stale by the next writer). Temps of
 * killed writers are removed by `cleanStaleTemps` when the next writer begins.
 */
export interface AtomicDir {
  /** The final directory. */
  readonly dir: string;
  /** Where to write the new contents. */
  readonly tmp: string;
  /** Swap the new contents in (atomically for readers, see above). */
  commit(): Promise<void>;
  /** Drop the temp directory (nothing changes at `dir`). */
  abort(): Promise<void>;
}

export async function beginDirAtomic(dir: string): Promise<AtomicDir> {
  const abs = resolve(dir);
  const parent = dirname(abs);
  await ensureDir(parent);
  cleanStaleTemps(parent);
  const tmp = tempPathFor(abs);
  try {
    await mkdir(tmp);
  } catch (err) {
    throw ioError(err, tmp, `cannot write in ${parent}`);
  }
  return {
    dir: abs,
    tmp,
    async commit() {
      const old = tempPathFor(abs, "old");
      let moved = false;
      try {
        if (existsSync(abs)) {
          await rename(abs, old);
          moved = true;
        }
        await rename(tmp, abs);
      } catch (err) {
        if (moved && !existsSync(abs)) await rename(old, abs).catch(() => {});
        throw ioError(err, abs, "cannot replace the output directory");
      }
      await rm(old, { recursive: true, force: true });
    },
    async abort() {
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Fill a directory atomically: `fill(tmp)` writes the contents; on success they replace `dir` as a whole. */
export async function writeDirAtomic<T>(dir: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  const d = await beginDirAtomic(dir);
  try {
    const r = await fill(d.tmp);
    await d.commit();
    return r;
  } catch (err) {
    await d.abort();
    throw err;
  }
}

/** Size and SHA-256 of each file of a directory, written last (e.g. into meta.json) and verified by readers. */
export type DirManifest = Record<string, { size: number; sha256: string }>;

export function sha256OfFile(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function dirManifest(dir: string, names: readonly string[]): DirManifest {
  const m: DirManifest = {};
  for (const n of [...names].sort()) m[n] = { size: statSync(join(dir, n)).size, sha256: sha256OfFile(join(dir, n)) };
  return m;
}

/**
 * Check that every file a manifest lists is present with its size and checksum; throws naming the first file that
 * is missing, truncated or changed, and `what` wrote the directory (so the user knows what to rerun).
 */
export function verifyDirManifest(dir: string, manifest: DirManifest, what: string): void {
  for (const [name, want] of Object.entries(manifest)) {
    const path = join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new Error(`${path}: missing, but the directory's manifest lists it; rerun ${what}`);
    }
    if (size !== want.size)
      throw new Error(
        `${path}: ${size} bytes, but ${what} wrote ${want.size}; the directory was modified, rerun ${what}`,
      );
    if (sha256OfFile(path) !== want.sha256)
      throw new Error(`${path}: checksum differs from the one ${what} recorded; the file is corrupt, rerun ${what}`);
  }
}
