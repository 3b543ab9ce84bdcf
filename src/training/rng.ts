import { Xoshiro128 } from "../util/xoshiro.ts";

/**
 * entk's seeded PRNG for fine-tuning: xoshiro128** (Blackman & Vigna 2018) on four 32-bit words, seeded by
 * running splitmix32 over (seed, stream). Its whole state is four uint32s, so it is snapshotted exactly and a
 * resumed run draws the same numbers as an uninterrupted one. It is NOT torch's generator: the reference's
 * `RandomSampler` order and dropout masks (torch mt19937 / Philox) cannot be reproduced bit-for-bit in JS, so
 * entk's shuffles and dropout seeds are entk's own, deterministic given `--seed`.
 */
export class Rng extends Xoshiro128 {
  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`rng: seed must be an integer in [0, 2^32), got ${seed}`);
    super();
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      // splitmix32 (one output per state word; never all zero in practice, guarded below)
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      words.push((z ^ (z >>> 16)) >>> 0);
    }
    this.seedState(words);
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
