/** The training graph's row-sparse gradients (word embeddings, decoder) and its eval-only logits graph. */
import { afterAll, describe, expect, it } from "vitest";
import {
  createPromptModel,
  createTrainableModel,
  densifyRows,
  fillDropoutMask,
  scatterRows,
  seededUniform,
} from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { modelNames } from "../../src/model/weights/params.ts";
import { randomInputs, tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

describe("scatterRows", () => {
  it("sums the rows of repeated ids into sorted distinct rows; densify puts them back in place", () => {
    const d = Float32Array.from([1, 2, 10, 20, 100, 200, 0.5, 0.25]);
    const s = scatterRows([7, 3, 7, 0], d, 2);
    expect(Array.from(s.rows)).toEqual([0, 3, 7]);
    expect(Array.from(s.values)).toEqual([0.5, 0.25, 10, 20, 101, 202]);
    const dense = densifyRows(s, 9);
    expect(dense.length).toBe(18);
    expect(Array.from(dense.subarray(14, 16))).toEqual([101, 202]);
    expect(dense.reduce((a, v) => a + v, 0)).toBeCloseTo(0.75 + 30 + 303, 5);
  });
});

describe("fillDropoutMask", () => {
  it("draws the seededUniform stream, continuing across calls: 0 below p, else 1/(1 − p)", () => {
    const u = seededUniform(12345);
    const want = Array.from({ length: 1000 }, () => (u() < 0.3 ? 0 : 1 / 0.7));
    const state = { a: 12345 };
    const m = new Float64Array(1000);
    fillDropoutMask(state, m.subarray(0, 333), 0.3);
    fillDropoutMask(state, m.subarray(333), 0.3);
    expect(Array.from(m)).toEqual(want);
    const zeros = want.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(240);
    expect(zeros).toBeLessThan(360);
  });
});

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: sparse training gradients`, () => {
    const cfg = tinyConfig(arch, { hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1 });
    const w = tinyWeights(cfg, 4);
    const labels = [5, 9, 17];
    const inputs = randomInputs(cfg, 4, 31, 3, 9);
    const y = [2, 0, 1, 1];
    const names = modelNames(cfg);

    it("touched rows only, equal to the dense gradients bit for bit; other parameters identical", async () => {
      const dense = createTrainableModel(w, labels, { threads: 1 });
      const sparse = createTrainableModel(w, labels, { threads: 1, sparseGrads: true });
      const a = await dense.lossAndGrad(inputs, y, { dropoutSeed: 3 });
      const b = await sparse.lossAndGrad(inputs, y, { dropoutSeed: 3 });
      expect(a.sparse).toBeUndefined();
      expect(b.loss).toBe(a.loss);
      expect([...b.sparse!.keys()].sort()).toEqual([names.decoder, names.wordEmb].sort());
      // Rows: the batch's token ids (pads included: the batch is padded) and the label words.
      const pad = cfg.padTokenId;
      const maxT = Math.max(...inputs.map((x) => x.inputIds.length));
      const ids = new Set(inputs.flatMap((x) => [...x.inputIds, ...(x.inputIds.length < maxT ? [pad] : [])]));
      expect(Array.from(b.sparse!.get(names.wordEmb)!.rows)).toEqual([...ids].sort((p, q) => p - q));
      expect(Array.from(b.sparse!.get(names.decoder)!.rows)).toEqual([5, 9, 17]);
      for (const [name, s] of b.sparse!) {
        expect(b.grads.has(name)).toBe(false);
        const full = a.grads.get(name)!;
        expect(densifyRows(s, full.length / s.width)).toEqual(full);
        // the dense gradient is zero outside the touched rows
        let outside = 0;
        const touched = new Set(s.rows);
        for (let r = 0; r < full.length / s.width; r++)
          if (!touched.has(r)) for (let h = 0; h < s.width; h++) outside += Math.abs(full[r * s.width + h]);
        expect(outside).toBe(0);
      }
      expect(b.grads.size + b.sparse!.size).toBe(a.grads.size);
      for (const [name, g] of b.grads) expect(g).toEqual(a.grads.get(name));
    });

    it("eval logits (forward-only graph) equal the prompt model's and follow in-place parameter updates", async () => {
      const tm = createTrainableModel(w, labels, { threads: 1, sparseGrads: true });
      const ref = await createPromptModel(w, labels, { threads: 1 }).logits(inputs);
      const z = await tm.logits(inputs);
      expect(z.length).toBe(inputs.length * labels.length);
      for (let i = 0; i < z.length; i++) expect(Math.abs(z[i] - ref[i])).toBeLessThan(1e-5);
      // Eval-mode training loss = cross-entropy of these logits.
      const { loss } = await tm.lossAndGrad(inputs, y);
      let ce = 0;
      y.forEach((l, i) => {
        const row = Array.from(z.subarray(3 * i, 3 * i + 3));
        ce += Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[l];
      });
      expect(loss).toBeCloseTo(ce / y.length, 5);
      // The decoder bias is read live: shifting the bias of label word 9 shifts logit column 1 only.
      tm.params.get(names.decoderBias)![9] += 0.5;
      const z2 = await tm.logits(inputs);
      for (let i = 0; i < z.length; i++) expect(z2[i] - z[i]).toBeCloseTo(i % 3 === 1 ? 0.5 : 0, 5);
    });
  });
}
