/**
 * entk's seeded PRNG for fine-tuning: xoshiro128** (Blackman & Vigna 2018) on four 32-bit words, seeded by
 * running splitmix32 over (seed, stream). Its whole state is four uint32s, so it is snapshotted exactly and a
 * resumed run draws the same numbers as an uninterrupted one. It is NOT torch's generator: the reference's
 * `RandomSampler` order and dropout masks (torch mt19937 / Philox) cannot be reproduced bit-for-bit in JS, so
 * entk's shuffles and dropout seeds are entk's own, deterministic given `--seed`.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`rng: seed must be an integer in [0, 2^32), got ${seed}`);
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      // splitmix32 (one output per state word; never all zero in practice, guarded below)
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** Next uniform uint32. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new Error(`rng: bad range ${n}`);
    const limit = Math.floor(0x100000000 / n) * n;
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))
      throw new Error(`rng: state must be four uint32 words, got ${JSON.stringify(state)}`);
    this.s.set(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** In-place Fisher–Yates shuffle driven by `rng`. */
export function shuffleInPlace<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
