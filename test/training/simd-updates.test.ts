import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WASM_SOURCES, wasmModuleSource } from "../../scripts/build-wasm.ts";
import { type AdamStep, type SgdStep, SimdUpdates } from "../../src/training/simd/update-kernels.ts";

/** AdamW in scalar float32 arithmetic: every operation rounded with Math.fround (exact for +, −, ×, ÷, √). */
function reference(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array | undefined, k: AdamStep) {
  const f = Math.fround;
  const [c, b1, b2, c1, c2, s, eps, d] = [k.scale, k.b1, k.b2, k.c1, k.c2, k.stepSize, k.eps, k.decay].map(f);
  for (let i = 0; i < p.length; i++) {
    const gi = g ? f(c * g[i]) : 0;
    const mi = (m[i] = f(f(b1 * m[i]) + f(c1 * gi)));
    const vi = (v[i] = f(f(b2 * v[i]) + f(f(c2 * gi) * gi)));
    const pi = f(p[i] - f(f(s * mi) / f(f(Math.sqrt(vi)) + eps)));
    p[i] = f(pi - f(d * pi));
  }
}

/** SGD / SignGD in scalar float32 arithmetic. */
function referenceSgd(p: Float32Array, g: Float32Array | undefined, k: SgdStep) {
  const f = Math.fround;
  const [c, wd, lr] = [k.scale, k.wd, k.lr].map(f);
  for (let i = 0; i < p.length; i++) {
    const gi = g ? g[i] : 0;
    const h = k.sign ? Math.sign(gi) : f(c * gi);
    p[i] = f(p[i] - f(lr * f(h + f(wd * p[i]))));
  }
}

let seed = 7;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const randArray = (n: number, scale: number) => Float32Array.from({ length: n }, () => rnd() * scale);

const K: AdamStep = { scale: 0.7, b1: 0.9, b2: 0.999, c1: 0.1, c2: 0.001, stepSize: 3e-3, eps: 1e-8, decay: 1e-4 };

describe("SIMD update kernels (updates.wat)", () => {
  it("the committed modules are what scripts/build-wasm.ts compiles from the .wat sources", async () => {
    for (const s of WASM_SOURCES) expect(readFileSync(s.ts, "utf8")).toBe(await wasmModuleSource(s.wat, s.name));
  });

  // chunk 8: lengths around chunk and SIMD-lane boundaries exercise the staging loop and the scalar tail.
  for (const n of [0, 1, 3, 4, 7, 8, 9, 21, 64, 1001])
    it(`adamw equals scalar float32 arithmetic bit for bit (n = ${n}, 3 steps, with and without a gradient)`, () => {
      const kernel = new SimdUpdates(8);
      const p = randArray(n, 4);
      const m = randArray(n, 0.1);
      const v = randArray(n, 0.01).map(Math.abs);
      const [rp, rm, rv] = [p.slice(), m.slice(), v.slice()];
      for (let t = 0; t < 3; t++) {
        const g = t === 1 ? undefined : randArray(n, 2);
        if (g && n > 2) g[1] = 0;
        kernel.adamw(p, m, v, g, K);
        reference(rp, rm, rv, g, K);
      }
      expect(p).toEqual(rp);
      expect(m).toEqual(rm);
      expect(v).toEqual(rv);
    });

  for (const sign of [false, true])
    for (const n of [1, 5, 8, 27])
      it(`${sign ? "signgd" : "sgd"} equals scalar float32 arithmetic bit for bit (n = ${n}, with and without a gradient)`, () => {
        const kernel = new SimdUpdates(8);
        const p = randArray(n, 4);
        const ref = p.slice();
        const k: SgdStep = { scale: 0.37, wd: 0.01, lr: 1e-3, sign };
        for (const g of [randArray(n, 2), undefined]) {
          if (g) g[0] = 0;
          kernel.sgd(p, g, k);
          referenceSgd(ref, g, k);
        }
        expect(p).toEqual(ref);
      });

  it("decay equals the full update with m = v = g = 0, bit for bit, and leaves zero moments at zero", () => {
    const kernel = new SimdUpdates(8);
    const n = 37;
    const a = randArray(n, 3);
    const b = a.slice();
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    kernel.decay(a, K.decay);
    kernel.adamw(b, m, v, undefined, K);
    expect(a).toEqual(b);
    expect(m.every((x) => x === 0) && v.every((x) => x === 0)).toBe(true);
    const ref = randArray(n, 3);
    const want = ref.map((x) => Math.fround(x - Math.fround(Math.fround(K.decay) * x)));
    kernel.decay(ref, K.decay);
    expect(ref).toEqual(want);
  });

  it("matches the float64 recurrence to float32 accuracy at the default chunk size", () => {
    const kernel = new SimdUpdates();
    const n = 3 * kernel.chunk + 5;
    const p = randArray(n, 1);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const g = randArray(n, 1);
    kernel.adamw(p, m, v, g, { ...K, decay: 0 });
    let worst = 0;
    for (let i = 0; i < n; i += 97) {
      const mi = K.c1 * K.scale * g[i];
      const vi = K.c2 * (K.scale * g[i]) ** 2;
      worst = Math.max(worst, Math.abs(m[i] - mi) / Math.abs(mi || 1), Math.abs(v[i] - vi) / Math.abs(vi || 1));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it("rejects arrays of different lengths and a bad chunk size", () => {
    const k = new SimdUpdates(8);
    const a = new Float32Array(4);
    expect(() => k.adamw(a, a, new Float32Array(3), undefined, K)).toThrow(/different lengths/);
    expect(() => new SimdUpdates(6)).toThrow(/multiple of 4/);
  });
});
