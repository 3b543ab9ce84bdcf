import { afterAll, describe, expect, it } from "vitest";
import { createPromptModel, createTrainableModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { expectGradsMatchTf, logitsErrorVsTf, relErr } from "./compare-tf.ts";
import { tfLossAndGrads } from "./reference-tf.ts";
import { randomInputs, tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: prompt model vs an independent tfjs forward and autodiff`, () => {
    const cfg = tinyConfig(arch);
    const w = tinyWeights(cfg, 3);
    const labels = [5, 9, 17];
    const inputs = randomInputs(cfg, 5, 11);

    it("logits equal the tfjs forward within 1e-5", async () => {
      const m = createPromptModel(w, labels, { threads: 1 });
      expect(await logitsErrorVsTf(m, w, inputs, labels, false)).toBeLessThan(1e-5);
    });

    for (const binary of [false, true]) {
      it(`every parameter's gradient rows equal tfjs autodiff (≤ 1e-4 relative)${binary ? ", binary mode" : ""}`, async () => {
        const lw = binary ? [5, 9] : labels;
        const m = createPromptModel(w, lw, { threads: 1, binary });
        await expectGradsMatchTf(m, w, inputs.slice(0, 3), lw, binary);
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
