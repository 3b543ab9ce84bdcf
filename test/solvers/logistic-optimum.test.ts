import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { predictLabels } from "../../src/data/metrics.ts";
import { LOGISTIC_CS, logisticFit, logisticPredict } from "../../src/solvers/logistic.ts";
import { type Mat, mat } from "../../src/solvers/matrix.ts";
import { targetsFromLabels } from "../../src/solvers/targets.ts";
import { maxAbs, maxAbsDiff, mul, randMat, rng, tr } from "./helpers.ts";

/**
 * The optimum of every fit, computed independently in NumPy/SciPy: a trust-region method with exact subproblem
 * solves (scipy.optimize.minimize(method="trust-exact")) on the explicit (P+1)-dimensional primal — entk works
 * through the n×n Gram matrix with a line search — polished with plain Newton steps until the gradient stops
 * shrinking, and certified by its own gradient norm. Given entk's folds (checked against scikit-learn elsewhere),
 * it returns the CV accuracies, the chosen C, the refit's (w, b) and its eval decisions.
 */
const PY = `
import json, sys
import numpy as np
from scipy.optimize import minimize
d = json.load(open(sys.argv[1]))
K = np.array(d["K"]); Ke = np.array(d["Ke"]); y01 = np.array(d["y01"]); folds = np.array(d["folds"]); Cs = d["Cs"]
def solve(X, y01, C):
    y = 2.0 * y01 - 1.0; n, p = X.shape; A = np.hstack([X, np.ones((n, 1))]); a = 1.0 / C
    reg = np.full(p + 1, a); reg[p] = 0.0
    def f(t):
        z = A @ t; return np.logaddexp(0, -y * z).sum() + 0.5 * a * t[:p] @ t[:p]
    def g(t):
        z = A @ t; return A.T @ (-y / (1 + np.exp(y * z))) + reg * t
    def h(t):
        z = A @ t; D = 0.25 / np.cosh(z / 2) ** 2; return A.T @ (D[:, None] * A) + np.diag(reg)
    g0 = np.linalg.norm(g(np.zeros(p + 1)))
    t = minimize(f, np.zeros(p + 1), jac=g, hess=h, method="trust-exact", options={"gtol": 1e-13 * g0, "maxiter": 5000}).x
    best = np.linalg.norm(g(t))
    for _ in range(20):
        t2 = t - np.linalg.solve(h(t), g(t)); n2 = np.linalg.norm(g(t2))
        if not n2 < best: break
        t, best = t2, n2
    return t, best / g0
scores = np.zeros(len(Cs)); worst = 0.0
for f in range(5):
    tr_, te = folds != f, folds == f
    for i, C in enumerate(Cs):
        t, kkt = solve(K[tr_], y01[tr_], C); worst = max(worst, kkt)
        scores[i] += np.mean(((K[te] @ t[:-1] + t[-1]) > 0).astype(int) == y01[te]) / 5
best = int(np.argmax(scores))
t, kkt = solve(K, y01, Cs[best]); worst = max(worst, kkt)
print(json.dumps({"scores": scores.tolist(), "best": best, "w": t[:-1].tolist(), "b": t[-1],
                  "dec": (Ke.T @ t[:-1] + t[-1]).tolist(), "kkt": worst}))
`;

function reference(K: Mat, Ke: Mat, y01: Int32Array, folds: Int32Array) {
  const dir = mkdtempSync(join(tmpdir(), "entk-logistic-"));
  try {
    const rows = (m: Mat) =>
      Array.from({ length: m.rows }, (_, i) => [...m.data.subarray(i * m.cols, (i + 1) * m.cols)]);
    const file = join(dir, "problem.json");
    writeFileSync(
      file,
      JSON.stringify({ K: rows(K), Ke: rows(Ke), y01: [...y01], folds: [...folds], Cs: LOGISTIC_CS }),
    );
    return JSON.parse(execFileSync("python3", ["-c", PY, file]).toString()) as {
      scores: number[];
      best: number;
      w: number[];
      b: number;
      dec: number[];
      kkt: number;
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Features F = Q diag(√λ) with Q a random orthogonal P×P matrix (Householder products) and λ log-spaced over
 * `decades` decades, so K = F Fᵀ has condition number 10^decades; eval features are random. Labels follow a
 * noisy linear rule on F so that the CV curve is not flat.
 */
function illConditioned(P: number, Q: number, decades: number, seed: number) {
  const r = rng(seed);
  const Qm = mat(P, P);
  for (let i = 0; i < P; i++) Qm.data[i * P + i] = 1;
  for (let h = 0; h < 6; h++) {
    const v = Float64Array.from({ length: P }, r);
    const vv = v.reduce((s, x) => s + x * x, 0);
    const H = mat(P, P);
    for (let i = 0; i < P; i++)
      for (let j = 0; j < P; j++) H.data[i * P + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / vv;
    Qm.data.set(mul(Qm, H).data);
  }
  const F = mat(P, P);
  for (let i = 0; i < P; i++)
    for (let k = 0; k < P; k++) F.data[i * P + k] = Qm.data[i * P + k] * Math.sqrt(10 ** ((-decades * k) / (P - 1)));
  const Fe = randMat(Q, P, r);
  for (let q = 0; q < Q; q++) for (let k = 0; k < P; k++) Fe.data[q * P + k] *= 10 ** ((-decades * k) / (2 * (P - 1)));
  const K = mul(F, tr(F));
  // Symmetrize exactly (as kernels written by entk are).
  for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) K.data[i * P + j] = K.data[j * P + i];
  const score = Float64Array.from({ length: P }, (_, i) => 3 * F.data[i * P] - 2 * F.data[i * P + 1] + 0.3 * r());
  return { K, Ke: mul(F, tr(Fe)), F, score };
}

function conditionNumber(K: Mat): number {
  const out = execFileSync(
    "python3",
    ["-c", "import sys, json, numpy as np; K = np.array(json.load(sys.stdin)); print(np.linalg.cond(K))"],
    {
      input: JSON.stringify(
        Array.from({ length: K.rows }, (_, i) => [...K.data.subarray(i * K.cols, (i + 1) * K.cols)]),
      ),
    },
  );
  return Number(out.toString());
}

function expectAtOptimum(K: Mat, Ke: Mat, y: Float64Array) {
  const model = logisticFit({ K, y }, { reg: 0 });
  const y01 = Int32Array.from(y, (t) => Math.trunc((t + 1) / 2));
  const ref = reference(K, Ke, y01, model.folds);
  expect(ref.kkt).toBeLessThan(1e-11); // the independent optimum is certified
  // Every fit of entk reached its optimum (Newton, relative KKT ≤ 1e-10).
  expect(model.fits.length).toBe(5 * LOGISTIC_CS.length + 1);
  for (const f of model.fits) {
    expect(f.method).toBe("newton");
    expect(f.relKkt).toBeLessThanOrEqual(1e-9);
  }
  model.cvScores.forEach((s, i) => {
    expect(s).toBeCloseTo(ref.scores[i], 12);
  });
  expect(model.C).toBe(LOGISTIC_CS[ref.best]);
  expect(maxAbsDiff(model.w, ref.w)).toBeLessThan(1e-6 * maxAbs(ref.w));
  expect(Math.abs(model.b - ref.b)).toBeLessThan(1e-6 * Math.max(1, Math.abs(ref.b)));
  const dec = logisticPredict(model, { K: Ke });
  expect(maxAbsDiff(dec, ref.dec)).toBeLessThan(1e-6 * maxAbs(ref.dec));
  return { model, dec, ref };
}

describe("logistic regression at the optimum on ill-conditioned kernels", () => {
  it("binary: CV scores, chosen C, coefficients (1e-6) and predictions match an independent optimum (cond ≥ 1e6)", () => {
    const { K, Ke, score } = illConditioned(40, 30, 7, 101);
    expect(conditionNumber(K)).toBeGreaterThan(1e6);
    const y = Float64Array.from(score, (v) => (v > 0 ? 1 : -1));
    const { dec, ref } = expectAtOptimum(K, Ke, y);
    expect([...dec].map((v) => v > 0)).toEqual(ref.dec.map((v) => v > 0));
  });

  it("4-class flattened (example, class) rows: the same, and the argmax predictions are identical", () => {
    const n = 12;
    const C = 4;
    const { K, Ke, F, score } = illConditioned(n * C, 10 * C, 7, 202);
    expect(conditionNumber(K)).toBeGreaterThan(1e6);
    // Label of example i: the class c whose row (i, c) scores highest (plus a second feature for variety).
    const labels = Int32Array.from({ length: n }, (_, i) => {
      let best = 0;
      for (let c = 1; c < C; c++)
        if (score[i * C + c] + F.data[(i * C + c) * F.cols + 2] > score[i * C + best]) best = c;
      return best;
    });
    const y = targetsFromLabels(labels, C, false);
    const { dec, ref } = expectAtOptimum(K, Ke, y);
    expect([...predictLabels(dec, 10, C)]).toEqual([...predictLabels(Float64Array.from(ref.dec), 10, C)]);
  });
});
