import { afterAll, describe, expect, it } from "vitest";
import { createPromptModel, createTrainableModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { tfFAndGrads, tfLossAndGrads } from "./reference-tf.ts";
import { randomInputs, tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

/** max |a − b| / max |b| (scale-relative error of a whole tensor). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: prompt model vs an independent tfjs forward and autodiff`, () => {
    const cfg = tinyConfig(arch);
    const w = tinyWeights(cfg, 3);
    const labels = [5, 9, 17];
    const inputs = randomInputs(cfg, 5, 11);

    it("logits equal the tfjs forward within 1e-5", async () => {
      const m = createPromptModel(w, labels, { threads: 1 });
      const f = await m.logits(inputs);
      inputs.forEach((x, i) => {
        const ref = tfFAndGrads(w, x, labels, false).f;
        for (let c = 0; c < 3; c++) expect(Math.abs(f[i * 3 + c] - ref[c])).toBeLessThan(1e-5);
      });
    });

    for (const binary of [false, true]) {
      it(`every parameter's gradient rows equal tfjs autodiff (≤ 1e-4 relative)${binary ? ", binary mode" : ""}`, async () => {
        const lw = binary ? [5, 9] : labels;
        const m = createPromptModel(w, lw, { threads: 1, binary });
        const factors = await m.gradFactors(inputs.slice(0, 3));
        const params = m.params();
        expect(params.length).toBe(w.tensors.size);
        for (let i = 0; i < 3; i++) {
          const ref = tfFAndGrads(w, inputs[i], lw, binary);
          expect(factors[i].C).toBe(binary ? 1 : 3);
          for (const p of params) {
            const rows = m.materialize(factors[i], p.name);
            expect(rows.length).toBe(factors[i].C * p.size);
            for (let c = 0; c < factors[i].C; c++) {
              const got = rows.subarray(c * p.size, (c + 1) * p.size);
              const want = ref.grads[c].get(p.name)!;
              if (/attention\.self\.key\.bias$/.test(p.name)) {
                // Exactly zero in exact arithmetic; tfjs shows only rounding noise.
                expect(factors[i].zero).toContain(p.name);
                expect(Math.max(...got.map(Math.abs))).toBe(0);
                expect(Math.max(...want.map(Math.abs))).toBeLessThan(1e-5);
                continue;
              }
              const e = relErr(got, want);
              if (e > 1e-4) throw new Error(`${p.name} (example ${i}, output ${c}): relative error ${e}`);
            }
          }
        }
      });
    }

    it("training graph: eval-mode loss and dense gradients equal tfjs (≤ 1e-4 relative)", async () => {
      const tm = createTrainableModel(w, labels, { threads: 1 });
      const y = [2, 0, 1, 1];
      const got = await tm.lossAndGrad(inputs.slice(0, 4), y);
      const ref = tfLossAndGrads(w, inputs.slice(0, 4), y, labels);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
      expect(got.grads.size).toBe(w.tensors.size);
      for (const [name, g] of got.grads) {
        if (/attention\.self\.key\.bias$/.test(name)) continue; // rounding noise on both sides (exactly 0)
        const e = relErr(g, ref.grads.get(name)!);
        if (e > 1e-4) throw new Error(`${name}: relative error ${e}`);
      }
    });
  });
}
