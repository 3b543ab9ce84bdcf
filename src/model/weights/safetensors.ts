import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { writeFloat32, writeStreamAtomic } from "../../util/atomic.ts";
import { f32ToF16 } from "./convert.ts";

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{ "__metadata__"?: {str: str}, <name>: {dtype, shape, data_offsets: [begin, end]} }`, then the
 * byte buffer; offsets are relative to the buffer start 8 + N. Only the header is read here — tensor bytes stay
 * on disk and are referenced by absolute offset.
 */

export const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file, and its length in bytes. */
  offset: number;
  length: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** Absolute offset of the byte buffer (8 + header length). */
  dataStart: number;
  metadata: Record<string, string>;
  entries: SafetensorsEntry[];
}

export class SafetensorsError extends Error {}

/** Same limit as the reference Rust implementation. */
const MAX_HEADER_BYTES = 100_000_000;

/** Read and fully validate the header of a safetensors file (JSON, dtypes, shapes, offsets, overlap, truncation). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${path}: ${msg}`);
  };
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    return fail(`cannot open (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) fail(`not a safetensors file: ${fileSize} bytes, shorter than the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES))
      fail(`header length ${n} exceeds ${MAX_HEADER_BYTES} bytes: not a safetensors file or corrupt`);
    const headerLen = Number(n);
    if (8 + headerLen > fileSize)
      fail(`truncated: header length says ${headerLen} bytes but the file has only ${fileSize - 8} after it`);
    const hbuf = Buffer.alloc(headerLen);
    readSync(fd, hbuf, 0, headerLen, 8);
    const header = parseHeaderJson(hbuf, fail);
    return validateHeader(path, header, fileSize, 8 + headerLen, fail);
  } finally {
    closeSync(fd);
  }
}

function parseHeaderJson(buf: Buffer, fail: (m: string) => never): Record<string, unknown> {
  const text = buf.toString("utf8");
  if (!text.startsWith("{")) fail("header is not a JSON object (corrupt file or not safetensors)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) fail("header is not a JSON object");
  return parsed as Record<string, unknown>;
}

function validateHeader(
  path: string,
  header: Record<string, unknown>,
  fileSize: number,
  dataStart: number,
  fail: (m: string) => never,
): SafetensorsHeader {
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  const bufferLen = fileSize - dataStart;
  let needed = 0;
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof v !== "object" || v === null || Array.isArray(v)) fail("__metadata__ must be an object of strings");
      for (const [k, s] of Object.entries(v as object)) {
        if (typeof s !== "string") fail(`__metadata__.${k} must be a string`);
        metadata[k] = s;
      }
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== "object" || t === null) fail(`tensor "${name}": entry is not an object`);
    if (typeof t.dtype !== "string" || !(t.dtype in DTYPE_BYTES))
      fail(`tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}`);
    const dtype = t.dtype as string;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    const shape = t.shape as number[];
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0))
      fail(`tensor "${name}": data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(off)}`);
    const [begin, end] = off as number[];
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before begin`);
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected)
      fail(
        `tensor "${name}": ${dtype} [${shape}] needs ${expected} bytes but data_offsets [${begin}, ${end}] span ` +
          `${end - begin}`,
      );
    needed = Math.max(needed, end);
    entries.push({ name, dtype, shape, offset: dataStart + begin, length: end - begin });
  }
  const sorted = [...entries].sort((a, b) => a.offset - b.offset || a.length - b.length);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.length)
      fail(`tensors "${prev.name}" and "${sorted[i].name}" overlap in the data buffer`);
  }
  if (needed > bufferLen)
    fail(
      `truncated: tensor data needs ${needed} bytes after the header but the file has ${bufferLen} ` +
        `(expected size ${dataStart + needed}, found ${fileSize})`,
    );
  return { path, fileSize, dataStart, metadata, entries };
}

/** Read one tensor's raw bytes (used only for the small conversions: F16/BF16/F64 → float32). */
export function readTensorBytes(entry: SafetensorsEntry, path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(entry.length);
    let done = 0;
    while (done < entry.length) {
      const r = readSync(fd, buf, done, entry.length - done, entry.offset + done);
      if (r === 0) throw new SafetensorsError(`${path}: tensor "${entry.name}": unexpected end of file`);
      done += r;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * A float32 tensor to write; `data` may be a producer of consecutive chunks so big tensors are never whole.
 * `dtype` "F16" stores it as IEEE half precision (rounded to nearest even); default "F32".
 */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array | (() => Iterable<Float32Array>);
  dtype?: "F32" | "F16";
}

/** Encode the header JSON padded with spaces so the data buffer starts 8-byte aligned (as the Rust writer does). */
function encodeHeader(tensors: TensorToWrite[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let pos = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new SafetensorsError(`writeSafetensors: duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    if (t.name === "__metadata__") throw new SafetensorsError('writeSafetensors: "__metadata__" is reserved');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data instanceof Float32Array && t.data.length !== n)
      throw new SafetensorsError(
        `writeSafetensors: tensor "${t.name}" has shape [${t.shape}] (${n} elements) but ${t.data.length} values`,
      );
    const width = t.dtype === "F16" ? 2 : 4;
    header[t.name] = { dtype: t.dtype ?? "F32", shape: t.shape, data_offsets: [pos, pos + width * n] };
    pos += width * n;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hbytes = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + hbytes.length);
  out.writeBigUInt64LE(BigInt(hbytes.length), 0);
  hbytes.copy(out, 8);
  return out;
}

/**
 * Write float32 tensors (stored as F32 or F16) as a safetensors file, atomically (temp file + rename) and streamed: tensors given as
 * chunk producers are written chunk by chunk, so a 500 MB file never sits in one JS buffer.
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  if (endianness() !== "LE") throw new SafetensorsError("writeSafetensors: big-endian hosts are not supported");
  const header = encodeHeader(tensors, metadata);
  await writeStreamAtomic(path, async (fh) => {
    await fh.write(header);
    for (const t of tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      let written = 0;
      const chunks = t.data instanceof Float32Array ? [t.data] : t.data();
      for (const c of chunks) {
        if (t.dtype === "F16") await fh.write(new Uint8Array(f32ToF16(c).buffer));
        else await writeFloat32(fh, c);
        written += c.length;
      }
      if (written !== n)
        throw new SafetensorsError(`writeSafetensors: tensor "${t.name}" [${t.shape}] got ${written} of ${n} values`);
    }
  });
}
