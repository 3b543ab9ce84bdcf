import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A temp name next to `path` (same filesystem, so rename is atomic); hidden and unique per writer. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Write a file atomically: write a temp file beside it, then rename over the target. A reader (or a later run)
 * sees either the old complete file or the new complete file, never a half-written one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
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
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "w");
  try {
    await write(fh);
    if (opts.fsync) await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Write a float32 array's bytes in ≤ 256 MiB pieces (one write call is limited to 2 GiB). */
export async function writeFloat32(fh: FileHandle, a: Float32Array): Promise<void> {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let o = 0; o < bytes.length; o += 1 << 28)
    await fh.write(bytes.subarray(o, Math.min(bytes.length, o + (1 << 28))));
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
