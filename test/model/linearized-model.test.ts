/**
 * The linearized trainable model: f_lin(θ₀ + τ) against f₀ + J·τ (forward-mode JVP), and its loss gradient against
 * Σᵢ Σ_c (∂L/∂f_lin)ᵢ_c ∂f_c(xᵢ)/∂θ at θ₀ materialized from the reverse-mode gradient factors.
 */
import { afterAll, describe, expect, it } from "vitest";
import { presetConfig } from "../../src/model/init/presets.ts";
import { createJvpModel } from "../../src/model/jvp.ts";
import { createLinearizedModel } from "../../src/model/linearized-model.ts";
import { createPromptModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { rand } from "./graph/harness.ts";
import { randomInputs, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

describe("linearized model", () => {
  const cfg = presetConfig("roberta", "tiny", 50);
  const w = tinyWeights(cfg, 9);
  const inputs = randomInputs(cfg, 4, 2, 4, 10);
  const labels = [3, 17, 30];
  const y = [2, 0, 1, 1];

  it("logits are f₀ + J(θ − θ₀) and the CE gradient is Jᵀ(softmax − onehot)/n at θ₀ (float64)", async () => {
    const m = createLinearizedModel(w, labels, { dtype: "float64", threads: 1 });
    const tau = new Map<string, Float64Array>();
    let k = 0;
    for (const [n, p] of m.params) {
      const t = rand(p.length, 70 + ++k, 0.05);
      tau.set(n, t);
      for (let i = 0; i < p.length; i++) p[i] += t[i];
    }
    const { f, jv } = await createJvpModel(w, labels, { dtype: "float64", threads: 1 }).jvp(inputs, tau);
    const flin = f.map((v, i) => v + jv[i]);
    const z = await m.logits(inputs);
    flin.forEach((v, i) => {
      expect(Math.abs(z[i] - v)).toBeLessThan(1e-10);
    });
    const { loss, grads } = await m.lossAndGrad(inputs, y);
    const K = labels.length;
    const n = inputs.length;
    let want = 0;
    const r = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      const row = Array.from(flin.subarray(i * K, (i + 1) * K));
      const mx = Math.max(...row);
      const s = row.reduce((a, v) => a + Math.exp(v - mx), 0);
      want -= (row[y[i]] - mx - Math.log(s)) / n;
      for (let c = 0; c < K; c++) r[i * K + c] = (Math.exp(row[c] - mx) / s - (c === y[i] ? 1 : 0)) / n;
    }
    expect(Math.abs(loss - want)).toBeLessThan(1e-12);
    const pm = createPromptModel(w, labels, { dtype: "float64", threads: 1 });
    const factors = await pm.gradFactors(inputs);
    for (const [name, g] of grads) {
      const ref = new Float64Array(g.length);
      factors.forEach((fi, i) => {
        const rows = pm.materialize(fi, name);
        for (let c = 0; c < K; c++) for (let j = 0; j < g.length; j++) ref[j] += r[i * K + c] * rows[c * g.length + j];
      });
      const scale = Math.max(1e-8, ...ref.map(Math.abs));
      // The factors are stored as float32 (their contract): agreement to float32 precision.
      for (let j = 0; j < g.length; j++) expect(Math.abs(g[j] - ref[j]), name).toBeLessThan(1e-5 * scale);
    }
    expect(grads.size).toBe(m.params.size);
  });
});
