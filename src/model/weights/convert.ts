/** Conversions of half/double-precision checkpoint tensors to float32 (little-endian bytes in, float32 out). */

/** IEEE 754 binary16 → float32 (exact: every half value is representable in float32). */
export function f16ToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const h = dv.getUint16(2 * i, true);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0)
      out[i] = sign * frac * 2 ** -24; // subnormal: frac · 2^-14 · 2^-10
    else if (exp === 31) out[i] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
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
