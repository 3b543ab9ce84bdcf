import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { writeFloat32, writeStreamAtomic } from "../util/atomic.ts";

/**
 * Training-state snapshot file: "ENTKSNP2", a uint32 LE header length, a JSON header
 * { meta, tensors: [{ name, length }] } padded with spaces to a multiple of 8, each tensor's float32 data in
 * header order, then the SHA-256 (32 bytes) of everything before it. Written streaming (no copy of the model in JS)
 * to a temp file, fsynced, then renamed over the target, so a reader sees the old or the new snapshot, never a torn
 * one; the checksum is verified before anything is read from it, so a corrupt snapshot is refused, never resumed.
 */
const MAGIC = "ENTKSNP2";
const OLD_MAGIC = "ENTKSNP1";
const DIGEST = 32;

/** A snapshot that cannot be trusted (corrupt, truncated, older format); `code` lets callers suggest starting over. */
export class CorruptSnapshotError extends Error {
  readonly code = "ENTK_CORRUPT_SNAPSHOT";
}

export async function writeSnapshot(path: string, meta: unknown, tensors: Map<string, Float32Array>): Promise<void> {
  const list = [...tensors].map(([name, a]) => ({ name, length: a.length }));
  let header = JSON.stringify({ meta, tensors: list });
  header += " ".repeat((8 - ((12 + Buffer.byteLength(header)) % 8)) % 8);
  const head = Buffer.alloc(12 + Buffer.byteLength(header));
  head.write(MAGIC, 0, "latin1");
  head.writeUInt32LE(Buffer.byteLength(header), 8);
  head.write(header, 12, "utf8");
  await writeStreamAtomic(
    path,
    async (fh) => {
      const h = createHash("sha256");
      const hashing = {
        async write(b: Uint8Array) {
          h.update(b);
          await fh.write(b);
        },
      };
      await hashing.write(head);
      for (const a of tensors.values()) await writeFloat32(hashing, a);
      await fh.write(h.digest());
    },
    { fsync: true },
  );
}

export interface SnapshotReader {
  meta: unknown;
  names: string[];
  /** Read every tensor into the array `target(name)` returns (in place); sizes must match. */
  readInto(target: (name: string) => Float32Array | undefined): Promise<void>;
}

/** SHA-256 of the first `n` bytes of a file, streamed. */
async function sha256Prefix(path: string, n: number): Promise<Buffer> {
  const h = createHash("sha256");
  if (n > 0)
    for await (const c of createReadStream(path, { start: 0, end: n - 1, highWaterMark: 4 << 20 }))
      h.update(c as Buffer);
  return h.digest();
}

export async function openSnapshot(path: string): Promise<SnapshotReader> {
  const fh = await open(path, "r");
  const corrupt = (why: string) =>
    new CorruptSnapshotError(
      `${path}: corrupt training snapshot (${why}); delete it or start fresh to run from step 0`,
    );
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    const magic = head.toString("latin1", 0, 8);
    if (magic === OLD_MAGIC)
      throw new CorruptSnapshotError(
        `${path}: snapshot of an older entk without a checksum; start fresh to run from step 0`,
      );
    if (magic !== MAGIC)
      throw new CorruptSnapshotError(`${path}: not an entk training snapshot; delete it or start fresh`);
    if (size < 12 + DIGEST) throw corrupt("truncated");
    const stored = Buffer.alloc(DIGEST);
    await fh.read(stored, 0, DIGEST, size - DIGEST);
    if (!(await sha256Prefix(path, size - DIGEST)).equals(stored)) throw corrupt("checksum mismatch");
    const hlen = head.readUInt32LE(8);
    const hbuf = Buffer.alloc(hlen);
    const { bytesRead } = await fh.read(hbuf, 0, hlen, 12);
    if (bytesRead !== hlen) throw corrupt("truncated header");
    const parsed = JSON.parse(hbuf.toString("utf8")) as { meta: unknown; tensors: { name: string; length: number }[] };
    const dataStart = 12 + hlen;
    const dataBytes = parsed.tensors.reduce((a, t) => a + 4 * t.length, 0);
    if (dataStart + dataBytes + DIGEST !== size)
      throw corrupt(`${size} bytes, the header describes ${dataStart + dataBytes + DIGEST}`);
    return {
      meta: parsed.meta,
      names: parsed.tensors.map((t) => t.name),
      async readInto(target) {
        const fh2 = await open(path, "r");
        try {
          let pos = dataStart;
          for (const { name, length } of parsed.tensors) {
            const a = target(name);
            if (!a) throw new Error(`${path}: snapshot tensor '${name}' has no counterpart in this run`);
            if (a.length !== length)
              throw new Error(`${path}: snapshot tensor '${name}' has ${length} elements, this run has ${a.length}`);
            const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
            let o = 0;
            while (o < bytes.length) {
              const n = Math.min(bytes.length - o, 1 << 28);
              const r = await fh2.read(bytes, o, n, pos + o);
              if (r.bytesRead === 0) throw new Error(`${path}: truncated snapshot data in '${name}'`);
              o += r.bytesRead;
            }
            pos += a.byteLength;
          }
        } finally {
          await fh2.close();
        }
      },
    };
  } finally {
    await fh.close();
  }
}
