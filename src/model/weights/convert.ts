/** Conversions of half/double-precision checkpoint tensors to float32 (little-endian bytes in, float32 out). */

/** float16 bits → their float32 value. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac · 2^-14 · 2^-10
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * All 65,536 float16 values, built on first use: one table read per element instead of halfValue's power and
 * branches, which had made loading entk-mini's float16 weights take ~1.9 s per load (the quick sweep loads them in
 * every job).
 */
let HALF_TABLE: Float32Array | undefined;

/** IEEE 754 binary16 → float32 (exact: every half value is representable in float32). */
export function f16ToF32(bytes: Uint8Array): Float32Array {
  if (!HALF_TABLE) HALF_TABLE = Float32Array.from({ length: 65536 }, (_, h) => halfValue(h));
  const table = HALF_TABLE;
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)];
  return out;
}

/** bfloat16 → float32: the 16 bits are the high half of a float32 (exact). */
export function bf16ToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const bits = new Uint32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
  return new Float32Array(bits.buffer);
}

/** float64 → float32 (rounds to nearest). */
export function f64ToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 3;
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  return out;
}

/**
 * float32 → IEEE 754 binary16 bits, rounded to nearest (ties to even) as numpy's astype(float16) does: overflow
 * to ±∞, subnormals kept, NaN stays NaN.
 */
export function f32ToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      // Subnormal half (or zero): shift the full significand right, round to nearest even.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      out[i] = sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
      continue;
    }
    const half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    // A carry out of the mantissa bumps the exponent, up to ∞: the bit pattern arithmetic does it right.
    out[i] = sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0));
  }
  return out;
}
