import { afterAll, describe, expect, it } from "vitest";
import { createPromptModel, createTrainableModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import type { PromptInput } from "../../src/model/types.ts";
import { rand } from "./graph/harness.ts";
import { randomInputs, tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

/** A random direction V over every parameter the model uses. */
function direction(params: Map<string, Float64Array>, seed: number): Map<string, Float64Array> {
  let k = 0;
  return new Map([...params].map(([n, v]) => [n, rand(v.length, seed + ++k)]));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, off = 0) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[off + i] * b[i];
  return s;
};

/** Central difference of g along V with float64 parameters fed to a float64 graph. */
async function centralDiff<T extends number[] | Float64Array>(
  params: Map<string, Float64Array>,
  V: Map<string, Float64Array>,
  h: number,
  g: () => Promise<T>,
): Promise<number[]> {
  const base = new Map([...params].map(([n, v]) => [n, v.slice()]));
  const shift = (s: number) => {
    for (const [n, v] of params) {
      const b = base.get(n)!;
      const d = V.get(n)!;
      for (let i = 0; i < v.length; i++) v[i] = b[i] + s * h * d[i];
    }
  };
  shift(1);
  const plus = Array.from(await g());
  shift(-1);
  const minus = Array.from(await g());
  shift(0);
  return plus.map((p, i) => (p - minus[i]) / (2 * h));
}

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: gradients equal float64 central finite differences`, () => {
    const cfg = tinyConfig(arch);
    const w = tinyWeights(cfg, 5);
    const inputs: PromptInput[] = randomInputs(cfg, 3, 21);

    for (const binary of [false, true]) {
      it(`∂f/∂θ along random directions: float64 factors to 1e-5, float32 to 1e-4${binary ? " (binary)" : ""}`, async () => {
        const labels = binary ? [4, 30] : [4, 30, 12];
        const tm = createTrainableModel(w, labels, { dtype: "float64", threads: 1 });
        const C = binary ? 1 : 3;
        const f64 = await createPromptModel(w, labels, { dtype: "float64", binary, threads: 1 }).gradFactors(inputs);
        const m32 = createPromptModel(w, labels, { binary, threads: 1 });
        const f32 = await m32.gradFactors(inputs);
        for (const seed of [100, 200]) {
          const V = direction(tm.params, seed);
          // f from the float64 training graph (no dropout), binary = z[w1] − z[w0].
          const fd = await centralDiff(tm.params, V, 1e-5, async () => {
            const z = await tm.logits(inputs);
            if (!binary) return z;
            return inputs.map((_, i) => z[i * 2 + 1] - z[i * 2]);
          });
          inputs.forEach((_, i) => {
            for (let c = 0; c < C; c++) {
              let a64 = 0;
              let a32 = 0;
              for (const [n, v] of V) {
                const size = v.length;
                a64 += dot(m32.materialize(f64[i], n), v, c * size);
                a32 += dot(m32.materialize(f32[i], n), v, c * size);
              }
              const want = fd[i * C + c];
              // float64 factors are stored as float32 (the contract); with cancellation in the sum that costs ~1e-6.
              expect(Math.abs(a64 - want) / Math.abs(want)).toBeLessThan(1e-5);
              expect(Math.abs(a32 - want) / Math.abs(want)).toBeLessThan(1e-4);
            }
          });
        }
      });
    }

    it("float64 logits graphs stay exact (no float32 fused kernels)", async () => {
      const labels = [4, 30, 12];
      const a = await createPromptModel(w, labels, { dtype: "float64", threads: 1 }).logitsExact(inputs);
      const b = await createTrainableModel(w, labels, { dtype: "float64", threads: 1 }).logits(inputs);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-12);
    });

    it("loss gradients (eval mode and with fixed dropout masks) equal finite differences", async () => {
      const labels = [4, 30, 12];
      const tm = createTrainableModel(w, labels, { dtype: "float64", threads: 1 });
      const y = [2, 0, 1];
      for (const dropoutSeed of [undefined, 7]) {
        const { grads } = await tm.lossAndGrad(inputs, y, { dropoutSeed });
        const V = direction(tm.params, 300);
        const [fd] = await centralDiff(tm.params, V, 1e-5, async () => [
          (await tm.lossAndGrad(inputs, y, { dropoutSeed })).loss,
        ]);
        let a = 0;
        for (const [n, v] of V) a += dot(grads.get(n)!, v);
        expect(Math.abs(a - fd) / Math.abs(fd)).toBeLessThan(1e-7);
      }
    });
  });
}

describe("training graph: dropout masks repeat exactly per seed", () => {
  it("same seed → identical loss and gradients; another seed or none → different", async () => {
    const cfg = tinyConfig("roberta", { hiddenDropoutProb: 0.3, attentionProbsDropoutProb: 0.3 });
    const w = tinyWeights(cfg, 8);
    const tm = createTrainableModel(w, [4, 30], { threads: 1 });
    const inputs = randomInputs(cfg, 4, 3);
    const y = [0, 1, 1, 0];
    const a = await tm.lossAndGrad(inputs, y, { dropoutSeed: 1 });
    const b = await tm.lossAndGrad(inputs, y, { dropoutSeed: 1 });
    const c = await tm.lossAndGrad(inputs, y, { dropoutSeed: 2 });
    const e = await tm.lossAndGrad(inputs, y);
    expect(b.loss).toBe(a.loss);
    for (const [n, g] of a.grads) expect(b.grads.get(n)).toEqual(g);
    expect(c.loss).not.toBe(a.loss);
    expect(e.loss).not.toBe(a.loss);
    // Eval-mode loss = cross-entropy of the eval logits.
    const z = await tm.logits(inputs);
    let ce = 0;
    y.forEach((l, i) => {
      const lse = Math.log(Math.exp(z[2 * i]) + Math.exp(z[2 * i + 1]));
      ce += lse - z[2 * i + l];
    });
    expect(e.loss).toBeCloseTo(ce / 4, 5);
  });
});
