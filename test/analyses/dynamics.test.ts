/**
 * Kernel-predicted dynamics against gradient descent on an explicit linear model f(x) = f₀(x) + Φ(x)·θ, whose
 * linearization is itself and whose eNTK is K = Φ Φᵀ: the MSE closed form must equal many small GD steps, the
 * cross-entropy dynamics the GD steps exactly.
 */
import { describe, expect, it } from "vitest";
import { ceResidual, type LinearDynamicsProblem, mseDynamics, predictDynamics } from "../../src/analyses/dynamics.ts";
import { mat } from "../../src/solvers/matrix.ts";
import { rand } from "../model/graph/harness.ts";

/** A linear model over P parameters: rows φ_{i,c} for n train and m eval examples with C outputs each. */
function linearModel(n: number, m: number, C: number, P: number, seed: number) {
  const phiT = rand(n * C * P, seed);
  const phiE = rand(m * C * P, seed + 1);
  const f0T = rand(n * C, seed + 2);
  const f0E = rand(m * C, seed + 3);
  const labels = Int32Array.from(rand(n, seed + 4), (v) => Math.floor(((v + 1) / 2) * Math.max(C, 2)) % Math.max(C, 2));
  const dotRows = (a: Float64Array, i: number, b: Float64Array, j: number) => {
    let s = 0;
    for (let k = 0; k < P; k++) s += a[i * P + k] * b[j * P + k];
    return s;
  };
  const N = n * C;
  const Kt = mat(N, N);
  const Ke = mat(N, m * C);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) Kt.data[i * N + j] = dotRows(phiT, i, phiT, j);
    for (let j = 0; j < m * C; j++) Ke.data[i * m * C + j] = dotRows(phiT, i, phiE, j);
  }
  const problem: LinearDynamicsProblem = { Ktrain: Kt, f0: f0T, evals: { dev: { K: Ke, f0: f0E } }, labels, C };
  /** Full-batch GD on θ (from 0) with the mean loss; returns train and eval outputs after each of `steps` steps. */
  const gd = (lr: number, steps: number, residual: (f: Float64Array) => Float64Array) => {
    const theta = new Float64Array(P);
    const outputs = (phi: Float64Array, f0: Float64Array) =>
      f0.map((v, i) => v + theta.reduce((s, t, k) => s + t * phi[i * P + k], 0));
    for (let s = 0; s < steps; s++) {
      const r = residual(outputs(phiT, f0T));
      for (let i = 0; i < N; i++) for (let k = 0; k < P; k++) theta[k] -= (lr / n) * r[i] * phiT[i * P + k];
    }
    return { train: outputs(phiT, f0T), dev: outputs(phiE, f0E) };
  };
  return { problem, gd, labels };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
};

describe("linearized dynamics", () => {
  for (const C of [1, 3]) {
    it(`MSE closed form equals many small discrete GD steps (C = ${C}); t = 0 is f₀`, () => {
      const { problem, gd } = linearModel(6, 4, C, 9, 10 + C);
      const lr = 0.05;
      const T = 40;
      const pred = mseDynamics(problem, lr, [0, T]);
      close(pred.train[0], problem.f0, 1e-12);
      close(pred.dev[0], problem.evals.dev.f0, 1e-12);
      // t = T at learning rate lr is 1000·T steps at lr/1000 (the flow the closed form integrates).
      const y = C === 1 ? Float64Array.from(problem.labels, (l) => 2 * l - 1) : oneHot(problem.labels, C);
      const sub = 1000;
      const ref = gd(lr / sub, T * sub, (f) => f.map((v, i) => v - y[i]));
      const moved = Math.max(...pred.train[1].map((v, i) => Math.abs(v - problem.f0[i])));
      expect(moved).toBeGreaterThan(0.1);
      close(pred.train[1], ref.train, 2e-3 * moved);
      close(pred.dev[1], ref.dev, 2e-3 * moved);
    });

    it(`cross-entropy steps equal GD on the linear model step for step (C = ${C})`, () => {
      const { problem, gd, labels } = linearModel(5, 3, C, 7, 30 + C);
      const pred = predictDynamics(problem, "ce", 0.3, [0, 1, 25]);
      for (const [k, steps] of [
        [1, 1],
        [2, 25],
      ] as const) {
        const ref = gd(0.3, steps, (f) => ceResidual(f, labels, C));
        close(pred.train[k], ref.train, 1e-10);
        close(pred.dev[k], ref.dev, 1e-10);
      }
    });
  }

  it("the CE residual is softmax − one-hot (C ≥ 2) and σ(f) − y (binary, f = z₁ − z₀)", () => {
    const r = ceResidual(Float64Array.from([0, Math.log(3)]), Int32Array.from([1]), 2);
    close(r, [0.25, -0.25], 1e-12);
    // Binary: the same example as f = z₁ − z₀ = log 3 → σ(log 3) − 1 = −0.25, the z₁ entry above.
    close(ceResidual(Float64Array.from([Math.log(3)]), Int32Array.from([1]), 1), [-0.25], 1e-12);
  });

  it("refuses steps out of order and mismatched shapes", () => {
    const { problem } = linearModel(3, 2, 2, 4, 5);
    expect(() => mseDynamics(problem, 0.1, [5, 2])).toThrow(/increasing integers/);
    expect(() => mseDynamics({ ...problem, f0: new Float64Array(2) }, 0.1, [1])).toThrow(/disagree/);
  });
});

function oneHot(labels: Int32Array, C: number): Float64Array {
  const y = new Float64Array(labels.length * C);
  labels.forEach((l, i) => {
    y[i * C + l] = 1;
  });
  return y;
}
