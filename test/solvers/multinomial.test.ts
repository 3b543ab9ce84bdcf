import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { LOGISTIC_CS } from "../../src/solvers/logistic.ts";
import { fitMultinomial, probeClassifier, probeFit, probeScores } from "../../src/solvers/multinomial.ts";

/** Deterministic data: n rows of d features, class means apart by `sep`. */
function data(n: number, d: number, K: number, sep: number, seed = 1) {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let j = 0; j < d; j++) X[i * d + j] = 2 * rnd() + (j % K === y[i] ? sep : 0);
  }
  return { X, y };
}

/** The same penalized softmax objective minimized by Newton's method in NumPy (float64), b centred. */
function numpyOptimum(X: Float64Array, y: Int32Array, d: number, K: number, C: number) {
  const script = `
import json, sys, numpy as np
a = json.load(sys.stdin); X = np.array(a["X"]).reshape(-1, a["d"]); y = np.array(a["y"]); K = a["K"]; alpha = 1 / a["C"]
n, d = X.shape; Xa = np.hstack([X, np.ones((n, 1))]); Y = np.eye(K)[y]
th = np.zeros((K, d + 1)); P = np.diag(np.r_[np.ones(d), 0.0])
for it in range(100):
    Z = Xa @ th.T; Z -= Z.max(1, keepdims=True); S = np.exp(Z); S /= S.sum(1, keepdims=True)
    g = ((S - Y).T @ Xa + alpha * th @ P).ravel()
    H = np.zeros((K * (d + 1), K * (d + 1)))
    for k in range(K):
        for l in range(K):
            wgt = S[:, k] * ((k == l) - S[:, l])
            H[k*(d+1):(k+1)*(d+1), l*(d+1):(l+1)*(d+1)] = (Xa * wgt[:, None]).T @ Xa + (alpha * P if k == l else 0)
    th -= (np.linalg.pinv(H) @ g).reshape(K, d + 1)
    if np.abs(g).max() < 1e-12: break
b = th[:, d] - th[:, d].mean()
print(json.dumps({"W": th[:, :d].ravel().tolist(), "b": b.tolist()}))
`;
  const out = execFileSync("python3", ["-c", script], {
    input: JSON.stringify({ X: Array.from(X), y: Array.from(y), d, K, C }),
  }).toString();
  return JSON.parse(out) as { W: number[]; b: number[] };
}

describe("multinomial logistic regression (the linear probe)", () => {
  it("reaches NumPy's Newton optimum of the same objective at a fixed C", () => {
    const d = 4;
    const K = 3;
    const { X, y } = data(30, d, K, 1);
    for (const C of [0.3593813663804626, 21.54434690031882]) {
      const r = fitMultinomial(X, y, d, K, C);
      expect(r.converged).toBe(true);
      const ref = numpyOptimum(X, y, d, K, C);
      const W = r.x.subarray(0, K * d);
      const b = Array.from(r.x.subarray(K * d));
      const mb = b.reduce((a, v) => a + v, 0) / K;
      const scale = Math.max(...ref.W.map(Math.abs));
      W.forEach((v, i) => {
        expect(Math.abs(v - ref.W[i])).toBeLessThan(2e-3 * scale);
      });
      b.forEach((v, k) => {
        expect(Math.abs(v - mb - ref.b[k])).toBeLessThan(2e-3 * scale);
      });
    }
  });

  it("refits at the C with the best mean fold accuracy, at that C's optimum", () => {
    const d = 5;
    const K = 3;
    const { X, y } = data(45, d, K, 0.8, 7);
    const m = probeFit(X, y, K);
    const best = m.cvScores.indexOf(Math.max(...m.cvScores));
    expect(m.C).toBe(LOGISTIC_CS[best]);
    const ref = numpyOptimum(X, y, d, K, m.C);
    const scale = Math.max(...ref.W.map(Math.abs));
    Array.from(m.W).forEach((v, i) => {
      expect(Math.abs(v - ref.W[i])).toBeLessThan(2e-3 * scale);
    });
    // Separated classes: the probe classifies most training rows right.
    const z = probeScores(m, X);
    let hit = 0;
    for (let i = 0; i < y.length; i++) {
      const row = Array.from(z.subarray(i * K, (i + 1) * K));
      if (row.indexOf(Math.max(...row)) === y[i]) hit++;
    }
    expect(hit / y.length).toBeGreaterThan(0.8);
  });

  it("binary: two-class softmax with symmetric rows, split into [−w/2, +w/2] with the same predictions", () => {
    const d = 3;
    const { X, y } = data(20, d, 2, 1.5, 3);
    const m = probeFit(X, y, 2);
    for (let j = 0; j < d; j++) expect(m.W[j]).toBeCloseTo(-m.W[d + j], 10);
    const { weight, bias } = probeClassifier(m);
    for (let j = 0; j < d; j++) {
      expect(weight[j]).toBeCloseTo(-m.W[d + j] / 2, 6);
      expect(weight[d + j]).toBeCloseTo(m.W[d + j] / 2, 6);
    }
    const z = probeScores(m, X);
    for (let i = 0; i < y.length; i++) {
      let f = bias[1] - bias[0];
      for (let j = 0; j < d; j++) f += (weight[d + j] - weight[j]) * X[i * d + j];
      // f = w·x + b₁ is half the probe's log-odds z₁ − z₀ = 2(w·x + b₁).
      expect(f).toBeCloseTo((z[i * 2 + 1] - z[i * 2]) / 2, 4);
    }
  });

  it("refuses a class without examples", () => {
    const { X, y } = data(10, 2, 2, 1);
    expect(() => probeFit(X, y, 3)).toThrow(/class 2 has no training example/);
  });
});
