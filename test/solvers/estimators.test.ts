import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { asymFit, asymPredict } from "../../src/solvers/asym.ts";
import { LOGISTIC_CS, logisticFit, logisticPredict } from "../../src/solvers/logistic.ts";
import { lstsqFit, lstsqPredict } from "../../src/solvers/lstsq.ts";
import { type Mat, mat } from "../../src/solvers/matrix.ts";
import { stratifiedTestFolds } from "../../src/solvers/stratified-kfold.ts";
import { svcFit, svcPredict, svmDecision, svrFit, svrPredict } from "../../src/solvers/svm.ts";
import { targetsFromLabels } from "../../src/solvers/targets.ts";
import { expectOptionError } from "../helpers/option-error.ts";
import { gaussSolve, maxAbs, maxAbsDiff, mul, randMat, rng, tr, vec } from "./helpers.ts";

const M = (a: number[][]): Mat => mat(a.length, a[0].length, Float64Array.from(a.flat()));
const fixtures = JSON.parse(
  readFileSync(new URL("../fixtures/solvers/sklearn-reference.json", import.meta.url), "utf8"),
);

describe("lstsq", () => {
  it("regularizes with r·σ_max·I: closed form Q diag(1/(λ + r·max|λ|)) Qᵀ y on a known spectrum", () => {
    const lam = [4, 2, 1, 0.5, 0];
    const n = lam.length;
    const u = Float64Array.from([1, -2, 0.5, 3, 1]);
    const uu = u.reduce((s, x) => s + x * x, 0);
    const Q = mat(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) Q.data[i * n + j] = (i === j ? 1 : 0) - (2 * u[i] * u[j]) / uu;
    const D = mat(n, n);
    lam.forEach((l, i) => {
      D.data[i * n + i] = l;
    });
    const K = mul(mul(Q, D), Q);
    const y = Float64Array.from([1, -1, 1, 1, -1]);
    const r = 1e-2;
    const model = lstsqFit({ K, y }, { reg: r });
    expect(model.shift).toBeCloseTo(r * 4, 12);
    expect(model.rank).toBe(n);
    const Dinv = mat(n, n);
    lam.forEach((l, i) => {
      Dinv.data[i * n + i] = 1 / (l + r * 4);
    });
    const expected = mul(mul(mul(Q, Dinv), Q), vec(y)).data;
    expect(maxAbsDiff(model.alpha, expected)).toBeLessThan(1e-12 * maxAbs(expected));
    // Without regularization the zero eigenvalue is dropped: rank 4 and a warning.
    const plain = lstsqFit({ K, y }, { reg: 0 });
    expect(plain.rank).toBe(4);
    expect(plain.warnings.length).toBe(1);
  });

  it("solves multi-class jointly over flattened one-hot rows and predicts Kₑᵀα (+ f0 with adjust-for-init)", () => {
    const n = 6;
    const C = 3;
    const G = randMat(n * C, 25, rng(21));
    const Ge = randMat(4 * C, 25, rng(22));
    const K = mul(G, tr(G));
    const Ke = mul(G, tr(Ge));
    const labels = Int32Array.from([0, 1, 2, 2, 1, 0]);
    const y = targetsFromLabels(labels, C, false);
    expect([...y.subarray(0, 6)]).toEqual([1, 0, 0, 0, 1, 0]);
    const model = lstsqFit({ K, y }, { reg: 0 });
    // Full rank: interpolates the one-hot targets on train, and α solves K α = y.
    expect(maxAbsDiff(lstsqPredict(model, { K }), y)).toBeLessThan(1e-9);
    expect(maxAbsDiff(model.alpha, gaussSolve(K, y))).toBeLessThan(1e-9 * maxAbs(model.alpha));
    const pred = lstsqPredict(model, { K: Ke });
    expect(maxAbsDiff(pred, mul(tr(Ke), vec(model.alpha)).data)).toBeLessThan(1e-12 * maxAbs(pred));

    const f0 = Float64Array.from({ length: n * C }, rng(23));
    const f0e = Float64Array.from({ length: 4 * C }, rng(24));
    const adj = lstsqFit({ K, y, f0 }, { reg: 0 });
    const alpha = gaussSolve(
      K,
      y.map((v, i) => v - f0[i]),
    );
    const expected = mul(tr(Ke), vec(alpha)).data.map((v, i) => v + f0e[i]);
    expect(maxAbsDiff(lstsqPredict(adj, { K: Ke, f0: f0e }), expected)).toBeLessThan(1e-8);
  });
});

describe("asym", () => {
  /** The 2N system [[I/γ, H], [Hᵀ, I/γ]] built independently and solved by Gaussian elimination. */
  function direct(K: Mat, Y: Float64Array, gamma: number) {
    const N = K.rows;
    const A = mat(2 * N, 2 * N);
    for (let i = 0; i < N; i++) {
      A.data[i * 2 * N + i] = 1 / gamma;
      A.data[(N + i) * 2 * N + N + i] = 1 / gamma;
      for (let j = 0; j < N; j++) {
        A.data[i * 2 * N + N + j] = Y[i] * K.data[i * N + j] * Y[j];
        A.data[(N + i) * 2 * N + j] = Y[j] * K.data[j * N + i] * Y[i];
      }
    }
    const x = gaussSolve(A, new Float64Array(2 * N).fill(1));
    return { alpha: x.slice(0, N), beta: x.slice(N) };
  }

  it("solves its 2N system and predicts λ·ω + (1 − λ)·ν with the flipped kernel", () => {
    const N = 8;
    const S = randMat(N, 30, rng(31)); // "sign side" features
    const G = randMat(N, 30, rng(32));
    const K = mul(S, tr(G)); // nonsymmetric train kernel
    const Se = randMat(5, 30, rng(33));
    const Ge = randMat(5, 30, rng(34));
    const Ke = mul(S, tr(Ge)); // ⟨sign g(train), g(eval)⟩
    const Kf = mul(G, tr(Se)); // ⟨sign g(eval), g(train)⟩ laid out [train, eval]
    const y = targetsFromLabels(Int32Array.from([0, 1, 1, 0, 1, 0, 0, 1]), 1, true);
    const gamma = 2;
    const lambda = 0.3;
    const model = asymFit({ K, y }, { reg: 0, gamma, lambda });
    const ref = direct(K, y, gamma);
    expect(maxAbsDiff(model.alpha, ref.alpha)).toBeLessThan(1e-9 * maxAbs(ref.alpha));
    expect(maxAbsDiff(model.beta, ref.beta)).toBeLessThan(1e-9 * maxAbs(ref.beta));
    const omega = mul(tr(Ke), vec(ref.alpha.map((a, i) => a * y[i]))).data;
    const nu = mul(tr(Kf), vec(ref.beta.map((b, i) => b * y[i]))).data;
    const expected = omega.map((o, q) => lambda * o + (1 - lambda) * nu[q]);
    expect(maxAbsDiff(asymPredict(model, { K: Ke, Kflipped: Kf }), expected)).toBeLessThan(1e-9 * maxAbs(expected));
  });

  it("with adjust-for-init uses Y = y − f0 in H and adds f0 back; a symmetric kernel makes λ irrelevant", () => {
    const N = 6;
    const G = randMat(N, 12, rng(41));
    const K = mul(G, tr(G));
    const Ke = mul(G, tr(randMat(3, 12, rng(42))));
    const y = targetsFromLabels(Int32Array.from([0, 1, 1, 0, 1, 0]), 1, true);
    const f0 = Float64Array.from({ length: N }, rng(43));
    const f0e = Float64Array.from([0.1, -0.2, 0.3]);
    const model = asymFit({ K, y, f0 }, { reg: 0, gamma: 1, lambda: 0.5 });
    const Y = y.map((v, i) => v - f0[i]);
    const ref = direct(K, Y, 1);
    expect(maxAbsDiff(model.alpha, ref.alpha)).toBeLessThan(1e-9 * maxAbs(ref.alpha));
    expect(maxAbsDiff(model.alpha, model.beta)).toBeLessThan(1e-9 * maxAbs(ref.alpha));
    const p1 = asymPredict({ ...model, lambda: 0 }, { K: Ke, Kflipped: Ke, f0: f0e });
    const p2 = asymPredict({ ...model, lambda: 1 }, { K: Ke, Kflipped: Ke, f0: f0e });
    expect(maxAbsDiff(p1, p2)).toBeLessThan(1e-9 * maxAbs(p1));
    const omega = mul(tr(Ke), vec(ref.alpha.map((a, i) => a * Y[i]))).data;
    expect(
      maxAbsDiff(
        p1,
        omega.map((o, q) => o + f0e[q]),
      ),
    ).toBeLessThan(1e-9 * maxAbs(p1));
  });
});

describe("logistic (LogisticRegressionCV semantics)", () => {
  it("assigns stratified folds like sklearn: hand-worked cases and sklearn's own assignments", () => {
    // Classes numbered by first appearance (label 1 first); each of 5 folds gets one sample of each class, in order.
    expect([...stratifiedTestFolds([1, 1, 0, 0, 0, 1, 0, 1, 1, 0], 5)]).toEqual([0, 1, 0, 1, 2, 2, 3, 3, 4, 4]);
    // Round robin over sorted labels [0,0,0,1,1,1,1]: fold 0 gets {0,0,1,1}, fold 1 gets {0,1,1}; blocks in order.
    expect([...stratifiedTestFolds([0, 0, 0, 1, 1, 1, 1], 2)]).toEqual([0, 0, 1, 0, 0, 1, 1]);
    for (const c of fixtures.folds) expect([...stratifiedTestFolds(c.y, 5)]).toEqual(c.folds);
    expect(() => stratifiedTestFolds([0, 0, 1, 1], 5)).toThrow(/n_splits=5 cannot be greater/);
  });

  it("ties on every C choose the first C (1e-4): K = I, balanced folds, held-out rows carry unseen features", () => {
    // With K = I a held-out row's only nonzero feature is absent from the training rows, so its decision is the
    // intercept alone; every test fold holds one sample per class, so each C scores exactly 0.5.
    const labels = [1, 1, 0, 0, 0, 1, 0, 1, 1, 0];
    const n = labels.length;
    const K = mat(n, n);
    for (let i = 0; i < n; i++) K.data[i * n + i] = 1;
    const model = logisticFit({ K, y: Float64Array.from(labels, (l) => 2 * l - 1) }, { reg: 0 });
    expect(model.cvScores).toEqual(new Array(10).fill(0.5));
    expect(model.C).toBe(1e-4);
    LOGISTIC_CS.forEach((c, i) => {
      expect(Math.abs(c / 10 ** (-4 + (8 * i) / 9) - 1)).toBeLessThan(1e-14);
    });
  });

  it("matches scikit-learn LogisticRegressionCV: chosen C, CV scores for C ≤ 1, decision values", () => {
    for (const c of fixtures.logistic) {
      const model = logisticFit({ K: M(c.K_train), y: Float64Array.from(c.y, (v: number) => 2 * v - 1) }, { reg: 0 });
      expect([...model.folds]).toEqual(c.folds);
      expect(model.C).toBeCloseTo(c.C, 12);
      // Large C on separable kernel rows is ill-determined (any tolerance-level solution); compare C ≤ 1 exactly.
      for (let i = 0; i < 5; i++) expect(model.cvScores[i]).toBeCloseTo(c.cv_scores[i], 12);
      const d = logisticPredict(model, { K: M(c.K_eval) });
      expect(maxAbsDiff(d, c.decision_eval)).toBeLessThan(1e-3 * maxAbs(c.decision_eval));
    }
  });

  it("matches sklearn 0.24's LogisticRegressionCV (scipy L-BFGS-B emulation), including a badly scaled kernel", () => {
    for (const c of fixtures.logistic_024) {
      const model = logisticFit({ K: M(c.K_train), y: Float64Array.from(c.y, (v: number) => 2 * v - 1) }, { reg: 0 });
      expect(model.C).toBeCloseTo(c.C, 12);
      for (let i = 0; i < 5; i++) expect(model.cvScores[i]).toBeCloseTo(c.cv_scores[i], 12);
      const d = logisticPredict(model, { K: M(c.K_eval) });
      expect(maxAbsDiff(d, c.decision_eval)).toBeLessThan(1e-4 * maxAbs(c.decision_eval));
    }
  });

  it("refuses f0 and one-class targets", () => {
    const K = M([
      [1, 0],
      [0, 1],
    ]);
    expectOptionError(
      () => logisticFit({ K, y: Float64Array.from([1, -1]), f0: Float64Array.from([0, 0]) }, { reg: 0 }),
      "adjustForInit",
      /logistic solver does not support adjustForInit/,
    );
    expect(() => logisticFit({ K, y: Float64Array.from([1, 1]) }, { reg: 0 })).toThrow(/both classes/);
  });
});

describe("svc / svr (libsvm semantics)", () => {
  it("SVC matches scikit-learn SVC(kernel='precomputed'): decision values, predictions (as ±1), support size", () => {
    for (const c of fixtures.svc) {
      const model = svcFit({ K: M(c.K_train), y: Float64Array.from(c.y, (v: number) => 2 * v - 1) }, { reg: 0 });
      const d = svmDecision(model, M(c.K_eval));
      expect(maxAbsDiff(d, c.decision_eval)).toBeLessThan(2e-3);
      expect(model.nSupport).toBe(c.n_support);
      expect([...svcPredict(model, { K: M(c.K_eval) })]).toEqual(c.predict_eval.map((p: number) => 2 * p - 1));
    }
    expectOptionError(
      () => svcFit({ K: M([[1]]), y: Float64Array.from([1]), f0: Float64Array.from([0]) }, { reg: 0 }),
      "adjustForInit",
      /svc solver does not support adjustForInit/,
    );
  });

  it("SVR matches scikit-learn SVR(kernel='precomputed'), and f0 shifts targets and outputs", () => {
    for (const c of fixtures.svr) {
      const K = M(c.K_train);
      const model = svrFit({ K, y: Float64Array.from(c.y) }, { reg: 0 });
      expect(maxAbsDiff(svrPredict(model, { K: M(c.K_eval) }), c.predict_eval)).toBeLessThan(2e-3);
      expect(maxAbsDiff(svrPredict(model, { K }), c.predict_train)).toBeLessThan(2e-3);
      expect(model.nSupport).toBe(c.n_support);
      // Fitting y − f0 and adding f0 back equals fitting the shifted targets directly.
      const f0 = Float64Array.from(c.y, (_: number, i: number) => 0.1 * Math.sin(i));
      const adj = svrFit({ K, y: Float64Array.from(c.y), f0 }, { reg: 0 });
      const direct = svrFit({ K, y: Float64Array.from(c.y, (v: number, i: number) => v - f0[i]) }, { reg: 0 });
      expect(
        maxAbsDiff(
          svrPredict(adj, { K, f0 }),
          svrPredict(direct, { K }).map((v, i) => v + f0[i]),
        ),
      ).toBe(0);
    }
  });
});
