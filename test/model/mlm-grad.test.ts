import { afterAll, describe, expect, it } from "vitest";
import { createMlmModel, type MlmBatch } from "../../src/model/mlm-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { rand } from "./graph/harness.ts";
import { tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

/** A batch of 2 × 7 tokens with 4 masked positions (one repeated token id, so embedding rows accumulate). */
function batch(): MlmBatch {
  const ids = [0, 5, 9, 4, 9, 21, 2, 0, 33, 4, 17, 8, 30, 2];
  return {
    inputIds: Int32Array.from(ids),
    rows: 2,
    seqLen: 7,
    maskedIndex: Int32Array.from([1, 4, 9, 12]),
    labels: Int32Array.from([6, 9, 35, 12]),
  };
}

/** Mean cross-entropy computed in float64 by brute force from the logits of an independent forward pass. */
function bruteForceCe(logits: number[][], labels: ArrayLike<number>): number {
  let s = 0;
  logits.forEach((z, i) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    s += lse - z[labels[i]];
  });
  return s / logits.length;
}

describe("masked-LM graph", () => {
  const cfg = tinyConfig("roberta", { vocabSize: 40 });
  const w = tinyWeights(cfg, 3);

  it("gradients of every parameter equal float64 central finite differences along random directions", async () => {
    const m = createMlmModel(w, { dtype: "float64", threads: 1 });
    const b = batch();
    const g = await m.lossAndGrad(b);
    const base = new Map([...m.params].map(([n, v]) => [n, v.slice()]));
    for (const seed of [11, 12]) {
      let k = 0;
      const V = new Map([...m.params].map(([n, v]) => [n, rand(v.length, seed * 100 + ++k)]));
      // Analytic directional derivative: Σ_p ⟨∂L/∂p, V_p⟩, the word embedding's from its row cotangents.
      let analytic = 0;
      for (const [n, d] of g.grads) {
        const v = V.get(n)!;
        for (let i = 0; i < v.length; i++) analytic += d[i] * v[i];
      }
      const H = cfg.hiddenSize;
      const vEmb = V.get(g.wordEmb)!;
      b.inputIds.forEach((id, t) => {
        for (let h = 0; h < H; h++) analytic += g.wordRows[t * H + h] * vEmb[id * H + h];
      });
      const h = 1e-5;
      const at = async (s: number) => {
        for (const [n, p] of m.params) {
          const b0 = base.get(n)!;
          const v = V.get(n)!;
          for (let i = 0; i < p.length; i++) p[i] = b0[i] + s * h * v[i];
        }
        return (await m.evaluate(b)).loss;
      };
      const fd = ((await at(1)) - (await at(-1))) / (2 * h);
      await at(0);
      expect(Math.abs(analytic - fd) / Math.abs(fd)).toBeLessThan(1e-6);
    }
  });

  it("the loss equals a brute-force cross-entropy of the full-vocabulary logits; top-1 hits match", async () => {
    // Logits from a second, independent route: the eval loss of one-position batches per label gives
    // −log softmax(z)[label] for every label, i.e. the log-probabilities (up to the common normalizer).
    const m = createMlmModel(w, { dtype: "float64", threads: 1 });
    const b = batch();
    const full = await m.evaluate(b);
    const logits: number[][] = [];
    for (let i = 0; i < b.maskedIndex.length; i++) {
      const row: number[] = [];
      for (let v = 0; v < cfg.vocabSize; v++) {
        const one = { ...b, maskedIndex: b.maskedIndex.slice(i, i + 1), labels: Int32Array.from([v]) };
        row.push(-(await m.evaluate(one)).loss);
      }
      logits.push(row);
    }
    expect(full.loss).toBeCloseTo(bruteForceCe(logits, b.labels), 10);
    const hits = logits.filter((z, i) => z.indexOf(Math.max(...z)) === b.labels[i]).length;
    expect(full.hits).toBe(hits);
    expect(full.count).toBe(4);
  });

  it("float32 training graph agrees with float64 (loss to 1e-5 relative)", async () => {
    const m64 = createMlmModel(w, { dtype: "float64", threads: 1 });
    const m32 = createMlmModel(w, { threads: 1 });
    const a = await m64.lossAndGrad(batch());
    const c = await m32.lossAndGrad(batch());
    expect(Math.abs(a.loss - c.loss) / a.loss).toBeLessThan(1e-5);
  });
});
