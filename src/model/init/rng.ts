import { createHash } from "node:crypto";

/**
 * Deterministic normal samples for random model weights: xoshiro128** (Blackman & Vigna) seeded per tensor from
 * sha256(`${seed}:${tensorName}`), 53-bit uniforms, Box–Muller. A tensor's values depend only on (seed, name),
 * not on the order tensors are generated in or on the other tensors' shapes.
 */
export class TensorRng {
  private s = new Uint32Array(4);
  private spare: number | undefined;

  constructor(seed: number, name: string) {
    const d = createHash("sha256").update(`${seed}:${name}`).digest();
    for (let i = 0; i < 4; i++) this.s[i] = d.readUInt32LE(4 * i);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** A generator with an explicit xoshiro128** state (for reference test vectors). */
  static fromState(state: [number, number, number, number]): TensorRng {
    const r = new TensorRng(0, "");
    r.s.set(state);
    return r;
  }

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

  /** Uniform in (0, 1), 53 bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; both values of each pair are used). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
