import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.ts";

/** The NumPy dtypes entk reads and writes, with their little-endian descr strings. */
const DESCR = { float32: "<f4", float64: "<f8", int32: "<i4", int64: "<i8", uint8: "|u1" } as const;
export type NpyDtype = keyof typeof DESCR;

export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface NpyArray<T extends NpyData = NpyData> {
  dtype: NpyDtype;
  shape: number[];
  data: T;
}

const CTOR = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
} as const;

function dtypeOf(data: NpyData): NpyDtype {
  for (const [k, C] of Object.entries(CTOR)) if (data instanceof C) return k as NpyDtype;
  throw new Error("npy: unsupported typed array");
}

/** Encode a C-order array as NumPy .npy format version 1.0 (header padded so data starts 64-byte aligned). */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: shape [${shape}] has ${n} elements but data has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${DESCR[dtypeOf(data)]}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  if (header.length > 0xffff) throw new Error("npy: header too long for format 1.0");
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Decode a .npy buffer (versions 1–3, little-endian, C order). `source` names the file in errors. */
export function decodeNpy(buf: Uint8Array, source = "<buffer>"): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b)) throw new Error(`${source}: not a .npy file (bad magic)`);
  const major = buf[6];
  if (major < 1 || major > 3) throw new Error(`${source}: unsupported .npy format version ${major}.${buf[7]}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (major > 1 && buf.length < 12) throw new Error(`${source}: truncated .npy header`);
  const [hlen, hstart] = major === 1 ? [dv.getUint16(8, true), 10] : [dv.getUint32(8, true), 12];
  if (hstart + hlen > buf.length)
    throw new Error(
      `${source}: truncated or corrupt .npy header: it declares ${hlen} header bytes, the file has ${buf.length - hstart}`,
    );
  const header = new TextDecoder().decode(buf.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeStr === undefined) throw new Error(`${source}: malformed .npy header: ${header}`);
  if (fortran === "True") throw new Error(`${source}: Fortran-order arrays are not supported`);
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((k) => DESCR[k] === descr);
  if (!dtype) throw new Error(`${source}: unsupported dtype ${descr} (expected one of ${Object.values(DESCR)})`);
  const shape = shapeStr
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new Error(`${source}: malformed .npy header: shape (${shapeStr}) is not a tuple of sizes`);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const C = CTOR[dtype];
  const bytes = n * C.BYTES_PER_ELEMENT;
  if (buf.length - off < bytes)
    throw new Error(`${source}: truncated: expected ${bytes} data bytes, found ${buf.length - off}`);
  // Copy so the result is aligned and independent of the input (Buffer#slice would alias Node's shared pool).
  const data = new C(Uint8Array.prototype.slice.call(buf, off, off + bytes).buffer);
  return { dtype, shape, data };
}

export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileSync(path), path);
}

export async function writeNpy(path: string, data: NpyData, shape: readonly number[]): Promise<void> {
  await writeFileAtomic(path, encodeNpy(data, shape));
}
