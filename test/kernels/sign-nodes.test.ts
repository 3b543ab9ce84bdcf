import { describe, expect, it } from "vitest";
import { encode, FLOAT, f32, SIGN_INITS, session, signNodes, valueInfo } from "../../src/kernels/ort-graphs.ts";

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
});
