/**
 * xoshiro128** (Blackman & Vigna 2018): the 32-bit PRNG core of entk's own seeded streams (training's shuffles
 * and dropout seeds, model initialization). Two other generators exist for compatibility: MT19937
 * (src/data/mt19937.ts) reproduces numpy's LM-BFF splits, mulberry32 (src/model/dropout.ts) the dropout masks of
 * recorded results. Its whole state is four uint32 words, so it can be snapshotted exactly; subclasses decide how
 * a seed becomes that state. The all-zero state is a fixed point, so seeding replaces it.
 */
export class Xoshiro128 {
  protected readonly s = new Uint32Array(4);

  protected seedState(words: ArrayLike<number>): void {
    this.s.set(words);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next uniform uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
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
  return (x << k) | (x >>> (32 - k));
}
