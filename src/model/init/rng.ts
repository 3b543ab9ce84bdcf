import { createHash } from "node:crypto";
import { Xoshiro128 } from "../../util/xoshiro.ts";

/**
 * Deterministic normal samples for random model weights: xoshiro128** (Blackman & Vigna) seeded per tensor from
 * sha256(`${seed}:${tensorName}`), 53-bit uniforms, Box–Muller. A tensor's values depend only on (seed, name),
 * not on the order tensors are generated in or on the other tensors' shapes.
 */
export class TensorRng extends Xoshiro128 {
  private spare: number | undefined;

  constructor(seed: number, name: string) {
    super();
    const d = createHash("sha256").update(`${seed}:${name}`).digest();
    this.seedState([0, 1, 2, 3].map((i) => d.readUInt32LE(4 * i)));
  }

  /** A generator with an explicit xoshiro128** state (for reference test vectors). */
  static fromState(state: [number, number, number, number]): TensorRng {
    const r = new TensorRng(0, "");
    r.setState(state);
    return r;
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
