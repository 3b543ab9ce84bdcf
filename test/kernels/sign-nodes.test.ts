import { describe, expect, it } from "vitest";
import {
  encode,
  FLOAT,
  f32,
  SIGN_INITS,
  SIGN_PRESCALE,
  session,
  signNodes,
  valueInfo,
} from "../../src/kernels/ort-graphs.ts";

// signNodes replaces onnxruntime's Sign in the contraction graphs (docs/kernels.md §4.1); the sign kernels are exact
// only if it equals sign(x) for every float32, the extreme magnitudes included.
describe("signNodes", () => {
  it("equals Math.sign on zeros, subnormals, normals, the largest floats and infinities", async () => {
    const special = [
      0,
      -0,
      2 ** -149,
      -(2 ** -149),
      3 * 2 ** -149,
      2 ** -127,
      -(2 ** -126),
      1e-38,
      -1e-30,
      1e-7,
      0.5,
      -1,
      1,
      3,
      -1234.5,
      3.4028234663852886e38,
      -3.4028234663852886e38,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    // Plus random magnitudes spread over the whole exponent range.
    const bits = new Uint32Array(4096);
    let s = 12345;
    for (let i = 0; i < bits.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      bits[i] = s & 0xff7fffff; // no NaN / infinity patterns (exponent 255 cleared in one bit)
    }
    const x = new Float32Array([...special, ...new Float32Array(bits.buffer)]);
    const sess = await session("test:sign", () =>
      encode("sign_test", signNodes("x", "y"), [valueInfo("x", FLOAT, 1)], [valueInfo("y", FLOAT, 1)], SIGN_INITS),
    );
    const y = (await sess.run({ x: f32(x, [x.length]) })).y.data as Float32Array;
    const want = Array.from(x, (v) => Math.sign(v));
    expect(Array.from(y)).toEqual(want);
    expect(x.filter((v) => v !== 0 && Math.abs(v) < 2 ** -126).length).toBeGreaterThan(10); // subnormals present
  });

  it("prescaled: the sign of a product one of whose factors carries SIGN_PRESCALE, across the subnormal range", async () => {
    // Products a·b whose float32 values run from 0 through the subnormals to large normals, as the materializing
    // MatMul makes them (one multiply-add per token); the reference is the sign of the unscaled float32 product.
    const n = 20000;
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    let s = 987654321;
    const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let i = 0; i < n; i++) {
      a[i] = (u() < 0.5 ? -1 : 1) * (1 + u()) * 2 ** Math.floor(-100 + 120 * u());
      b[i] = (u() < 0.5 ? -1 : 1) * (1 + u()) * 2 ** Math.floor(-100 + 120 * u());
      if (i % 50 === 0) b[i] = 0;
    }
    const scaled = a.map((v) => v * SIGN_PRESCALE);
    const nodes = [{ opType: "Mul", input: ["a", "b"], output: ["g"] }, ...signNodes("g", "y", true)];
    const sess = await session("test:sign-prescaled", () =>
      encode(
        "sign_prescaled_test",
        nodes,
        ["a", "b"].map((v) => valueInfo(v, FLOAT, 1)),
        [valueInfo("y", FLOAT, 1)],
        SIGN_INITS,
      ),
    );
    const y = (await sess.run({ a: f32(scaled, [n]), b: f32(b, [n]) })).y.data as Float32Array;
    let subnormal = 0;
    let underflow = 0;
    for (let i = 0; i < n; i++) {
      const g = Math.fround(a[i] * b[i]);
      if (g !== 0 && Math.abs(g) < 2 ** -126) subnormal++;
      if (g === 0 && b[i] !== 0) underflow++;
      if (g !== 0) expect(y[i]).toBe(Math.sign(g));
      else expect(Math.abs(y[i])).toBeLessThanOrEqual(1); // underflowed unscaled: never outside [−1, 1]
    }
    expect(subnormal).toBeGreaterThan(50);
    expect(underflow).toBeGreaterThan(50);
  });
});
