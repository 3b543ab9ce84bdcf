import { createHash, randomBytes } from "node:crypto";
import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type FileHandle, open, rename, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { ensureDir, ensureDirSync, ioError, listDir } from "./io.ts";

/** Whether a process with this pid runs on this machine. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** This machine, as 6 hex digits in temp names (so a cleaner on a shared filesystem only judges its own host's pids). */
const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 6);

/**
 * A temp name next to `path` (same filesystem, so rename is atomic); hidden and unique per writer:
 * `.<name>.entk-<host tag>-<pid>-<random>.<suffix>`. The writer's host and pid in the name let `cleanStaleTemps`
 * remove what a killed writer left behind.
 */
export function tempPathFor(path: string, suffix = "tmp"): string {
  return join(
    dirname(path),
    `.${basename(path)}.entk-${HOST_TAG}-${process.pid}-${randomBytes(4).toString("hex")}.${suffix}`,
  );
}

const TEMP_RE = /^\..+\.entk-([0-9a-f]{6})-(\d+)-[0-9a-f]{8}\.(tmp|old)$/;
/** Temp names of entk versions before host tags: removed when their pid is gone and they are an hour old. */
const LEGACY_TEMP_RE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Remove the temp files and directories that writers on this host which are no longer alive left in `dir` (a
 * SIGKILL or power loss between writing a temp and renaming it). Live writers' temps and other hosts' are kept.
 * Returns the paths removed; a missing `dir` is fine.
 */
export function cleanStaleTemps(dir: string): string[] {
  const names = listDir(dir);
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    const legacy = m ? undefined : LEGACY_TEMP_RE.exec(name);
    let stale = false;
    if (m) stale = m[1] === HOST_TAG && !pidAlive(Number(m[2]));
    else if (legacy && !pidAlive(Number(legacy[1])))
      try {
        stale = Date.now() - statSync(join(dir, name)).mtimeMs > 3600_000;
      } catch {
        stale = false;
      }
    if (!stale) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

/** cleanStaleTemps in `root` and every directory below it (symbolic links are not followed). */
export function cleanStaleTempsTree(root: string): string[] {
  const removed = cleanStaleTemps(root);
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) if (e.isDirectory()) removed.push(...cleanStaleTempsTree(join(root, e.name)));
  return removed;
}

/**
 * Write a file atomically: write a temp file beside it, then rename over the target. A reader (or a later run)
 * sees either the old complete file or the new complete file, never a half-written one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(dirname(path));
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw ioError(err, path, "cannot write");
  }
}

/**
 * writeFileAtomic for content too large for one buffer: `write` streams it into the temp file's handle. With
 * `fsync`, the data reaches the disk before the rename (a snapshot that must survive a crash).
 */
export async function writeStreamAtomic(
  path: string,
  write: (fh: FileHandle) => Promise<void>,
  opts: { fsync?: boolean } = {},
): Promise<void> {
  await ensureDir(dirname(path));
  const tmp = tempPathFor(path);
  let fh: FileHandle;
  try {
    fh = await open(tmp, "w");
  } catch (err) {
    throw ioError(err, path, "cannot write");
  }
  try {
    await write(fh);
    if (opts.fsync) await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw ioError(err, path, "cannot write");
  }
}

/** Write a float32 array's bytes in ≤ 256 MiB pieces (one write call is limited to 2 GiB). */
export async function writeFloat32(fh: { write(b: Uint8Array): Promise<unknown> }, a: Float32Array): Promise<void> {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let o = 0; o < bytes.length; o += 1 << 28)
    await fh.write(bytes.subarray(o, Math.min(bytes.length, o + (1 << 28))));
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  ensureDirSync(dirname(path));
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw ioError(err, path, "cannot write");
  }
}
