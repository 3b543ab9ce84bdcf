import { describe, expect, it } from "vitest";
import { choleskyInPlace, choleskySolveInPlace, gramRows } from "../../src/solvers/cholesky.ts";
import { maxAbs, maxAbsDiff, mul, randMat, rng, tr } from "./helpers.ts";

/**
 * The logistic solver's dense kernels (Cholesky and Gram through the WebAssembly panel update) against plain
 * triple loops: sizes around the four-column blocking (n mod 4 = 0..3, odd and even row lengths).
 */
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 38, 67, 130];

describe("gramRows (X Xᵀ through the panel kernel)", () => {
  it("equals the triple loop X Xᵀ for every blocking remainder and row length", () => {
    for (const n of [1, 3, 4, 5, 6, 7, 41, 66])
      for (const p of [1, 2, 5, 16, 33]) {
        const x = randMat(n, p, rng(n * 100 + p));
        const got = gramRows(x);
        const want = mul(x, tr(x));
        expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-13 * Math.max(1, maxAbs(want.data)));
        let asym = 0; // exactly symmetric
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (got.data[i * n + j] !== got.data[j * n + i]) asym++;
        expect(asym).toBe(0);
      }
  });
});

describe("choleskyInPlace / choleskySolveInPlace", () => {
  it("L Lᵀ = A with L lower triangular and positive diagonal; the strict upper triangle is left as it was", () => {
    for (const n of SIZES) {
      const g = randMat(n, n + 3, rng(7 + n));
      const A = mul(g, tr(g));
      for (let i = 0; i < n; i++) A.data[i * n + i] += 0.1;
      const a = Float64Array.from(A.data);
      expect(choleskyInPlace(a, n)).toBe(true);
      const L = Float64Array.from({ length: n * n }, (_, e) => (e % n <= Math.floor(e / n) ? a[e] : 0));
      for (let i = 0; i < n; i++) expect(L[i * n + i]).toBeGreaterThan(0);
      const LLt = mul({ rows: n, cols: n, data: L }, tr({ rows: n, cols: n, data: L }));
      expect(maxAbsDiff(LLt.data, A.data)).toBeLessThan(1e-13 * maxAbs(A.data));
      let changed = 0;
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (a[i * n + j] !== A.data[i * n + j]) changed++;
      expect(changed).toBe(0);
      // A x = b through the factor: residual at rounding level.
      const b = Float64Array.from({ length: n }, rng(n));
      const x = Float64Array.from(b);
      choleskySolveInPlace(a, n, x);
      const Ax = mul(A, { rows: n, cols: 1, data: x }).data;
      expect(maxAbsDiff(Ax, b)).toBeLessThan(1e-9 * maxAbs(b));
    }
  });

  it("returns false for a symmetric matrix that is not positive definite, in every blocking position", () => {
    for (const n of [1, 4, 5, 9, 38]) {
      for (const bad of [0, n - 1, Math.floor(n / 2)]) {
        const g = randMat(n, n + 3, rng(11 + n));
        const A = mul(g, tr(g));
        // Subtract enough along e_bad that the leading (bad+1)×(bad+1) block becomes indefinite.
        A.data[bad * n + bad] -= 10 * maxAbs(A.data);
        expect(choleskyInPlace(Float64Array.from(A.data), n)).toBe(false);
      }
    }
  });
});
