import { open } from "node:fs/promises";
import { writeFloat32, writeStreamAtomic } from "../util/atomic.ts";

/**
 * Training-state snapshot file: "ENTKSNP1", a uint32 LE header length, a JSON header
 * { meta, tensors: [{ name, length }] } padded with spaces to a multiple of 8, then each tensor's float32 data in
 * header order. Written streaming (no copy of the model in JS) to a temp file, fsynced, then renamed over the
 * target, so a reader sees the old or the new snapshot, never a torn one.
 */
const MAGIC = "ENTKSNP1";

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
      await fh.write(head);
      for (const a of tensors.values()) await writeFloat32(fh, a);
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

export async function openSnapshot(path: string): Promise<SnapshotReader> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head.toString("latin1", 0, 8) !== MAGIC) throw new Error(`${path}: not an entk training snapshot`);
    const hlen = head.readUInt32LE(8);
    const hbuf = Buffer.alloc(hlen);
    const { bytesRead } = await fh.read(hbuf, 0, hlen, 12);
    if (bytesRead !== hlen) throw new Error(`${path}: truncated snapshot header`);
    const parsed = JSON.parse(hbuf.toString("utf8")) as { meta: unknown; tensors: { name: string; length: number }[] };
    const dataStart = 12 + hlen;
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
