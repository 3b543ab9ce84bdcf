import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { symEig } from "../../src/solvers/eigen.ts";
import { defaultRcond, PreparedSquare } from "../../src/solvers/lstsq-core.ts";
import { type Mat, mat } from "../../src/solvers/matrix.ts";
import { gaussSolve, inverse, maxAbs, maxAbsDiff, mul, randMat, rng, tr, vec } from "./helpers.ts";

describe("symmetric eigendecomposition", () => {
  it("reconstructs A = V Λ Vᵀ with orthonormal V and matches the closed-form spectrum of a reflected diagonal", () => {
    const n = 40;
    const g = randMat(n, n, rng(3));
    const a = mul(g, tr(g));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) a.data[i * n + j] = 0.5 * (a.data[i * n + j] + a.data[j * n + i]);
    const { values, vectors } = symEig(a);
    const V = mat(n, n, vectors!); // rows are eigenvectors
    const L = mat(n, n);
    values.forEach((v, k) => {
      L.data[k * n + k] = v;
    });
    expect(maxAbsDiff(mul(mul(tr(V), L), V).data, a.data)).toBeLessThan(1e-12 * maxAbs(a.data));
    const I = mul(V, tr(V));
    for (let i = 0; i < n; i++) I.data[i * n + i] -= 1;
    expect(maxAbs(I.data)).toBeLessThan(1e-13);

    // H diag(d) H with H = I − 2 u uᵀ/‖u‖² has eigenvalues exactly d (including negative and repeated ones).
    const d = [5, -3, 2, 2, 0, 1e-3, -7, 4];
    const m = d.length;
    const u = Float64Array.from({ length: m }, (_, i) => i + 1);
    const uu = u.reduce((s, x) => s + x * x, 0);
    const H = mat(m, m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) H.data[i * m + j] = (i === j ? 1 : 0) - (2 * u[i] * u[j]) / uu;
    const D = mat(m, m);
    d.forEach((v, i) => {
      D.data[i * m + i] = v;
    });
    const got = [...symEig(mul(mul(H, D), H)).values].sort((x, y) => x - y);
    expect(
      maxAbsDiff(
        got,
        [...d].sort((x, y) => x - y),
      ),
    ).toBeLessThan(1e-13);
    const valuesOnly = [...symEig(mul(mul(H, D), H), { vectors: false }).values].sort((x, y) => x - y);
    expect(maxAbsDiff(valuesOnly, got)).toBeLessThan(1e-13);
  });
});

describe("minimum-norm least squares", () => {
  it("equals the float64 normal-equation solve on a full-rank symmetric system", () => {
    const n = 12;
    const g = randMat(n, n + 3, rng(5));
    const K = mul(g, tr(g));
    const y = Float64Array.from({ length: n }, rng(6));
    const sol = new PreparedSquare(K).solve(y);
    expect(sol.rank).toBe(n);
    expect(sol.warnings).toEqual([]);
    // Normal equations KᵀK x = Kᵀ y, solved by Gaussian elimination.
    const x = gaussSolve(mul(tr(K), K), mul(tr(K), vec(y)).data);
    expect(maxAbsDiff(sol.x, x)).toBeLessThan(1e-9 * maxAbs(x));
  });

  it("returns the pseudo-inverse solution G (GᵀG)⁻² Gᵀ y of a rank-deficient K = G Gᵀ and warns", () => {
    const n = 10;
    const d = 4;
    const G = randMat(n, d, rng(7));
    const K = mul(G, tr(G));
    const y = Float64Array.from({ length: n }, rng(8));
    const sol = new PreparedSquare(K).solve(y);
    expect(sol.rank).toBe(d);
    expect(sol.warnings.join()).toMatch(/rank-deficient \(rank 4;.*pseudo-inverse/);
    const GtGinv = inverse(mul(tr(G), G));
    const expected = mul(mul(mul(G, mul(GtGinv, GtGinv)), tr(G)), vec(y)).data;
    expect(maxAbsDiff(sol.x, expected)).toBeLessThan(1e-9 * maxAbs(expected));
  });

  it("solves nonsymmetric systems: exact for invertible A, pseudo-inverse V(VᵀV)⁻¹(UᵀU)⁻¹Uᵀb for A = UVᵀ", () => {
    const n = 9;
    const A = randMat(n, n, rng(9));
    const b = Float64Array.from({ length: n }, rng(10));
    const prep = new PreparedSquare(A);
    expect(prep.symmetric).toBe(false);
    expect(maxAbsDiff(prep.solve(b).x, gaussSolve(A, b))).toBeLessThan(1e-10 * maxAbs(gaussSolve(A, b)));

    const U = randMat(n, 3, rng(11));
    const V = randMat(n, 3, rng(12));
    const sol = new PreparedSquare(mul(U, tr(V))).solve(b);
    expect(sol.rank).toBe(3);
    const expected = mul(mul(mul(V, inverse(mul(tr(V), V))), mul(inverse(mul(tr(U), U)), tr(U))), vec(b)).data;
    expect(maxAbsDiff(sol.x, expected)).toBeLessThan(1e-9 * maxAbs(expected));
  });

  it("treats a float32-level asymmetry as symmetric (solving (A + Aᵀ)/2) and an O(1) one as nonsymmetric", () => {
    const n = 8;
    const g = randMat(n, n + 2, rng(13));
    const K = mul(g, tr(g));
    const noisy = mat(
      n,
      n,
      K.data.map((v, i) => v * (1 + 1e-7 * Math.sin(i))),
    );
    const prep = new PreparedSquare(noisy);
    expect(prep.symmetric).toBe(true);
    expect(prep.asymmetry).toBeGreaterThan(0);
    const b = Float64Array.from({ length: n }, rng(14));
    const sym = mat(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) sym.data[i * n + j] = 0.5 * (noisy.data[i * n + j] + noisy.data[j * n + i]);
    const x = gaussSolve(sym, b);
    expect(maxAbsDiff(prep.solve(b).x, x)).toBeLessThan(1e-9 * maxAbs(x));
    expect(new PreparedSquare(mul(randMat(n, n, rng(15)), tr(g))).symmetric).toBe(false);
  });

  it("σ_max is the operator norm for symmetric and nonsymmetric matrices", () => {
    // [[3, 4], [0, 0]] has singular values 5 and 0; diag(−6, 2) has σ_max 6.
    expect(new PreparedSquare(mat(2, 2, Float64Array.from([3, 4, 0, 0]))).sigmaMax()).toBeCloseTo(5, 12);
    expect(new PreparedSquare(mat(2, 2, Float64Array.from([-6, 0, 0, 2]))).sigmaMax()).toBeCloseTo(6, 12);
  });

  it("solves a zero system with x = 0 and a warning", () => {
    const sol = new PreparedSquare(mat(3, 3)).solve(Float64Array.from([1, 2, 3]));
    expect([...sol.x]).toEqual([0, 0, 0]);
    expect(sol.warnings.join()).toMatch(/zero/);
  });
});

/** numpy.linalg.lstsq(A, b, rcond=None) run at test time: its rank and solution. */
function numpyLstsq(A: Mat, b: Float64Array): { rank: number; x: number[] } {
  const rows = Array.from({ length: A.rows }, (_, i) => [...A.data.subarray(i * A.cols, (i + 1) * A.cols)]);
  const py =
    "import sys, json, numpy as np; d = json.load(sys.stdin); " +
    "x, _, rank, _ = np.linalg.lstsq(np.array(d['A']), np.array(d['b']), rcond=None); " +
    "print(json.dumps({'rank': int(rank), 'x': x.tolist()}))";
  return JSON.parse(execFileSync("python3", ["-c", py], { input: JSON.stringify({ A: rows, b: [...b] }) }).toString());
}

describe("the rank cutoff against NumPy (numpy.linalg.lstsq, rcond=None) at the boundary", () => {
  it("singular values exactly at, just above and just below eps·n·σ_max: the same rank and solution", () => {
    // A permuted diagonal has exactly its diagonal as spectrum (no rounding in either eigensolver or LAPACK's SVD),
    // so values can sit one part in 2²⁰ from the cutoff — and exactly on it (dropped by both: s ≤ rcond·σ_max).
    const n = 9;
    const cut = defaultRcond(n, n) * 4; // σ_max = 4
    const d = [4, 1, -0.5, cut * (1 + 2 ** -20), cut * (1 - 2 ** -20), -cut * (1 + 2 ** -19), cut, 1e-3, 0];
    const perm = [3, 7, 0, 5, 1, 8, 2, 6, 4];
    const K = mat(n, n);
    perm.forEach((p, i) => {
      K.data[p * n + p] = d[i];
    });
    const b = Float64Array.from({ length: n }, (_, i) => 1 + i / 3);
    const sol = new PreparedSquare(K).solve(b);
    const ref = numpyLstsq(K, b);
    expect(sol.rank).toBe(6);
    expect(sol.rank).toBe(ref.rank);
    expect(maxAbsDiff(sol.x, ref.x)).toBeLessThan(1e-12 * maxAbs(ref.x));
  });

  it("rotated spectra straddling the cutoff (symmetric and nonsymmetric): the same rank, the same solution", () => {
    const n = 10;
    const Q = (seed: number) => {
      // Orthogonal matrix from Householder reflections of random vectors.
      const r = rng(seed);
      let q = mat(n, n);
      for (let i = 0; i < n; i++) q.data[i * n + i] = 1;
      for (let h = 0; h < 3; h++) {
        const v = Float64Array.from({ length: n }, r);
        const vv = v.reduce((s, x) => s + x * x, 0);
        const H = mat(n, n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) H.data[i * n + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / vv;
        q = mul(q, H);
      }
      return q;
    };
    const cut = defaultRcond(n, n);
    // Rounding moves computed singular values by ~eps·σ_max = cut/n: keep them a factor 3 from the cutoff.
    const sig = [1, 0.3, 1e-2, 1e-5, 3 * cut, 5 * cut, cut / 3, cut / 5, 0, 1e-9];
    const D = mat(n, n);
    sig.forEach((s, i) => {
      D.data[i * n + i] = s;
    });
    const b = Float64Array.from({ length: n }, rng(77));
    const U = Q(71);
    const cases = [mul(mul(U, D), tr(U)), mul(mul(U, D), tr(Q(73)))];
    for (const A of cases) {
      if (A === cases[0]) for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A.data[i * n + j] = A.data[j * n + i];
      const sol = new PreparedSquare(A).solve(b);
      const ref = numpyLstsq(A, b);
      expect(ref.rank).toBe(7);
      expect(sol.rank).toBe(ref.rank);
      // Components along σ = 3·eps·n carry ~1/σ ≈ 1e14 and a relative rounding of ~1/(3n): compare to 10 %.
      expect(maxAbsDiff(sol.x, ref.x)).toBeLessThan(0.1 * maxAbs(ref.x));
    }
  });
});
