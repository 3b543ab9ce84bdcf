/**
 * Character vectors out of an R package's lazy-load database (`data/Rdata.rdb`), for registry packages that ship
 * text as R data (Debian `r-cran-*`). No R needed.
 *
 * Layout (R's lazy-load format): the `.rdb` file is a run of blobs, each a 4-byte big-endian uncompressed length
 * followed by a zlib stream; a blob inflates to one object in R's XDR serialization: `X\n`, the format version
 * (2 or 3), two R version integers, for version 3 the native encoding (length + bytes), then the object. A
 * character vector is the flags word of type 16 (STRSXP), its length, then per element a CHARSXP: flags word of
 * type 9, byte length (-1 for NA), bytes. All integers are big-endian int32. Blobs holding anything else are
 * skipped.
 */
import { inflateSync } from "node:zlib";

const STRSXP = 16;
const CHARSXP = 9;

/** One serialized object's character vector, or null when the object is not one. */
export function unserializeStrings(data: Buffer): (string | null)[] | null {
  if (data.subarray(0, 2).toString("latin1") !== "X\n") throw new Error("not an XDR R serialization (expected 'X\\n')");
  let o = 2;
  const int = () => {
    const v = data.readInt32BE(o);
    o += 4;
    return v;
  };
  const version = int();
  if (version !== 2 && version !== 3) throw new Error(`R serialization version ${version} (expected 2 or 3)`);
  o += 8; // writer's and minimal reader's R versions
  if (version === 3) {
    const encodingBytes = int(); // native encoding: its length, then that many bytes (skipped)
    o += encodingBytes;
  }
  if ((int() & 0xff) !== STRSXP) return null;
  const n = int();
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const flags = int();
    if ((flags & 0xff) !== CHARSXP) throw new Error(`element ${i}: type ${flags & 0xff}, expected CHARSXP (9)`);
    const len = int();
    if (len === -1) {
      out.push(null);
      continue;
    }
    out.push(data.subarray(o, o + len).toString("utf8"));
    o += len;
  }
  return out;
}

/** Every character vector of an `.rdb` lazy-load database, in file order. */
export function rdbStringVectors(rdb: Buffer): (string | null)[][] {
  const out: (string | null)[][] = [];
  let o = 0;
  while (o < rdb.length) {
    if (o + 4 > rdb.length) throw new Error(`truncated blob header at byte ${o}`);
    const expected = rdb.readUInt32BE(o);
    // `info` exposes the engine, whose bytesWritten is the compressed bytes consumed: the next blob starts there
    const { buffer, engine } = inflateSync(rdb.subarray(o + 4), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    if (buffer.length !== expected)
      throw new Error(`blob at byte ${o}: ${buffer.length} bytes, header says ${expected}`);
    const v = unserializeStrings(buffer);
    if (v) out.push(v);
    o += 4 + engine.bytesWritten;
  }
  return out;
}
