/**
 * Forward-mode J·v of the prompt model against independent computations: float64 central finite differences of
 * f(θ₀ + εv), and the VJP identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ with Jᵀu from the reverse-mode gradient factors —
 * at the tiny and small presets, for every parameter kind.
 */
import { afterAll, describe, expect, it } from "vitest";
import { presetConfig } from "../../src/model/init/presets.ts";
import { createJvpModel, jvp } from "../../src/model/jvp.ts";
import { createPromptModel, createTrainableModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { modelNames } from "../../src/model/weights/params.ts";
import type { ModelConfig } from "../../src/model/weights/types.ts";
import { rand } from "./graph/harness.ts";
import { randomInputs, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

/** Parameter groups by kind: each test direction moves one group only (and one moves all at once). */
function groups(cfg: ModelConfig): Record<string, string[]> {
  const n = modelNames(cfg);
  const l = n.layers[cfg.numHiddenLayers - 1];
  return {
    embeddings: [n.wordEmb, n.posEmb, n.typeEmb],
    layernorm: [n.embNorm.weight, n.embNorm.bias, l.attnNorm.weight, l.outNorm.bias, n.headNorm.weight],
    attention: [l.query.weight, l.query.bias, l.key.weight, l.value.weight, l.value.bias, l.attnOut.weight],
    ffn: [l.inter.weight, l.inter.bias, l.out.weight, l.out.bias, n.headDense.weight, n.headDense.bias],
    decoder: [n.decoder, n.decoderBias],
  };
}

function direction(names: string[], seed: number, sizes: Map<string, number>) {
  return new Map(names.map((name, k) => [name, rand(sizes.get(name)!, seed + 17 * k)]));
}

for (const preset of ["tiny", "small"] as const) {
  describe(`jvp at the ${preset} preset`, () => {
    const cfg = presetConfig("roberta", preset, 60);
    const w = tinyWeights(cfg, preset === "tiny" ? 3 : 4); // the seed names the weights (session cache key)
    const sizes = new Map([...w.tensors].map(([k, t]) => [k, t.shape.reduce((a, b) => a * b, 1)]));
    const inputs = randomInputs(cfg, 3, 11, 4, 12);
    const labels = [7, 21, 40];
    const all = Object.values(groups(cfg)).flat();

    for (const [kind, names] of [...Object.entries(groups(cfg)), ["all", all] as [string, string[]]]) {
      it(`${kind}: float64 J·v equals central finite differences of f(θ₀ + εv)`, async () => {
        const v = direction(names, 100, sizes);
        const { f, jv } = await createJvpModel(w, labels, { dtype: "float64", threads: 1 }).jvp(inputs, v);
        const tm = createTrainableModel(w, labels, { dtype: "float64", threads: 1 });
        const base = new Map([...tm.params].map(([n, a]) => [n, a.slice()]));
        const at = async (eps: number) => {
          for (const [n, d] of v) {
            const p = tm.params.get(n)!;
            const b = base.get(n)!;
            for (let i = 0; i < p.length; i++) p[i] = b[i] + eps * d[i];
          }
          return Array.from(await tm.logits(inputs));
        };
        const h = 1e-5;
        const plus = await at(h);
        const minus = await at(-h);
        const f0 = await at(0);
        const scale = Math.max(...jv.map(Math.abs));
        expect(scale).toBeGreaterThan(1e-3);
        jv.forEach((x, i) => {
          expect(Math.abs(f[i] - f0[i])).toBeLessThan(1e-10);
          expect(Math.abs(x - (plus[i] - minus[i]) / (2 * h))).toBeLessThan(1e-6 * scale);
        });
      });
    }

    for (const binary of [false, true]) {
      it(`float32 ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ (Jᵀu from reverse-mode factors) for every kind${binary ? " (binary)" : ""}`, async () => {
        const lw = binary ? labels.slice(0, 2) : labels;
        const C = binary ? 1 : lw.length;
        const pm = createPromptModel(w, lw, { binary, threads: 1 });
        const factors = await pm.gradFactors(inputs);
        const jm = createJvpModel(w, lw, { binary, threads: 1 });
        for (const [kind, names] of Object.entries(groups(cfg))) {
          const v = direction(names, 200, sizes);
          const v32 = new Map([...v].map(([n, a]) => [n, Float32Array.from(a)]));
          const { jv } = await jm.jvp(inputs, v32);
          const u = rand(inputs.length * C, 5);
          let lhs = 0;
          let rhs = 0;
          let mag = 0;
          inputs.forEach((_, i) => {
            for (let c = 0; c < C; c++) {
              lhs += u[i * C + c] * jv[i * C + c];
              for (const [n, d] of v32) {
                const rows = pm.materialize(factors[i], n);
                let s = 0;
                for (let k = 0; k < d.length; k++) s += rows[c * d.length + k] * d[k];
                rhs += u[i * C + c] * s;
                mag += Math.abs(u[i * C + c] * s);
              }
            }
          });
          expect(mag, kind).toBeGreaterThan(1e-3);
          expect(Math.abs(lhs - rhs), kind).toBeLessThan(2e-5 * mag);
        }
      });
    }
  });
}

describe("jvp: directions", () => {
  const cfg = presetConfig("bert", "tiny", 50);
  const w = tinyWeights(cfg, 4);
  const inputs = randomInputs(cfg, 2, 5);
  it("is linear in v, zero for v = 0 and for tensors f does not use; bad entries are refused", async () => {
    const names = modelNames(cfg);
    const n = w.tensors.get(names.embNorm.weight)!.shape[0];
    const a = Float32Array.from(rand(n, 1));
    const b = Float32Array.from(rand(n, 2));
    const ab = a.map((x, i) => 2 * x - 3 * b[i]);
    const run = (d: Float32Array) => jvp(w, [3, 9], inputs, new Map([[names.embNorm.weight, d]]), { threads: 1 });
    const [ra, rb, rab] = [await run(a), await run(b), await run(ab)];
    rab.jv.forEach((x, i) => {
      expect(Math.abs(x - (2 * ra.jv[i] - 3 * rb.jv[i]))).toBeLessThan(1e-5 * (1 + Math.abs(x)));
    });
    const zero = await jvp(w, [3, 9], inputs, new Map(), { threads: 1 });
    expect(Array.from(zero.jv)).toEqual([0, 0, 0, 0]);
    zero.f.forEach((x, i) => {
      expect(Math.abs(x - ra.f[i])).toBeLessThan(1e-5);
    });
    await expect(jvp(w, [3, 9], inputs, new Map([["nope", a]]))).rejects.toThrow(/nope.*not a parameter/);
    await expect(jvp(w, [3, 9], inputs, new Map([[names.embNorm.weight, a.subarray(1)]]))).rejects.toThrow(
      /has 15 values, the parameter has 16/,
    );
  });
});
