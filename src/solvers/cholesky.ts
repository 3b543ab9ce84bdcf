import { type Mat, mat } from "./matrix.ts";
import { panelKernel } from "./simd/panel-kernel.ts";

/**
 * Dense symmetric positive-definite helpers for the logistic solver's Newton systems: the Gram matrix X Xᵀ, an
 * in-place Cholesky factorization and the two triangular solves. Row-major throughout. The O(n³) work of the first
 * two is the four-column panel update C −= A Bᵀ of simd/panel.wat (float64 WebAssembly SIMD, two rows × four
 * columns per step; a 1281² factorization took 55–70 ms against 208–223 ms for the same blocking in JavaScript, in
 * one run at load ~30); the matrices are staged through the module's memory.
 */

/** X Xᵀ (rows of X dotted with each other), symmetric, n×n for an n×p X. */
export function gramRows(x: Mat): Mat {
  const n = x.rows;
  const p = x.cols;
  const k = panelKernel(n * p + n * n);
  const h = k.heap;
  const g0 = n * p; // G is staged after X, from zero (panel4 subtracts: it holds −G)
  h.set(x.data, 0);
  h.fill(0, g0, g0 + n * n);
  let j = 0;
  for (; j + 3 < n; j += 4) k.panel4(8 * j * p, p, n - j, 8 * j * p, p, p, 8 * (g0 + j * n + j), n);
  // The last (< 4) columns: G[i, j'] for i ≥ j' ≥ j.
  for (let jj = j; jj < n; jj++)
    for (let i = jj; i < n; i++) {
      let s = 0;
      for (let q = 0; q < p; q++) s += h[i * p + q] * h[jj * p + q];
      h[g0 + i * n + jj] = -s;
    }
  const out = mat(n, n);
  const o = out.data;
  for (let i = 0; i < n; i++)
    for (let jj = 0; jj <= i; jj++) {
      const v = -h[g0 + i * n + jj];
      o[i * n + jj] = v;
      o[jj * n + i] = v;
    }
  return out;
}

/**
 * Overwrite the lower triangle of the n×n symmetric matrix `a` (row-major) with its Cholesky factor L (A = L Lᵀ);
 * the strict upper triangle is left as it was. Left-looking (Crout), four columns at a time: the panel update of
 * those columns (all rows at or below them) in WebAssembly, then the 4×4 diagonal block's factor and the
 * substitution of the rows below in scalar code. Returns false (and leaves `a` partly overwritten) when a pivot is
 * not positive, i.e. A is not numerically positive definite.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  const k = panelKernel(n * n);
  const h = k.heap;
  h.set(a.subarray(0, n * n), 0);
  const ok = factorStaged(k.panel4, h, n);
  for (let i = 0; i < n; i++) a.set(h.subarray(i * n, i * n + i + 1), i * n);
  return ok;
}

function factorStaged(panel4: (...args: number[]) => void, h: Float64Array, n: number): boolean {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const o0 = j * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    // Columns j..j+3 of every row i ≥ j minus Σ_{k<j} L[i, k] L[j+c, k].
    panel4(8 * o0, n, n - j, 8 * o0, n, j, 8 * (o0 + j), n);
    const s00 = h[o0 + j];
    if (!(s00 > 0)) return false;
    const l00 = Math.sqrt(s00);
    const l10 = h[o1 + j] / l00;
    const l20 = h[o2 + j] / l00;
    const l30 = h[o3 + j] / l00;
    const d11 = h[o1 + j + 1] - l10 * l10;
    if (!(d11 > 0)) return false;
    const l11 = Math.sqrt(d11);
    const l21 = (h[o2 + j + 1] - l20 * l10) / l11;
    const l31 = (h[o3 + j + 1] - l30 * l10) / l11;
    const d22 = h[o2 + j + 2] - l20 * l20 - l21 * l21;
    if (!(d22 > 0)) return false;
    const l22 = Math.sqrt(d22);
    const l32 = (h[o3 + j + 2] - l30 * l20 - l31 * l21) / l22;
    const d33 = h[o3 + j + 3] - l30 * l30 - l31 * l31 - l32 * l32;
    if (!(d33 > 0)) return false;
    const l33 = Math.sqrt(d33);
    h[o0 + j] = l00;
    h[o1 + j] = l10;
    h[o1 + j + 1] = l11;
    h[o2 + j] = l20;
    h[o2 + j + 1] = l21;
    h[o2 + j + 2] = l22;
    h[o3 + j] = l30;
    h[o3 + j + 1] = l31;
    h[o3 + j + 2] = l32;
    h[o3 + j + 3] = l33;
    const i0 = 1 / l00;
    const i1 = 1 / l11;
    const i2 = 1 / l22;
    const i3 = 1 / l33;
    for (let i = j + 4; i < n; i++) {
      const oi = i * n + j;
      const u0 = h[oi] * i0;
      const u1 = (h[oi + 1] - u0 * l10) * i1;
      const u2 = (h[oi + 2] - u0 * l20 - u1 * l21) * i2;
      h[oi] = u0;
      h[oi + 1] = u1;
      h[oi + 2] = u2;
      h[oi + 3] = (h[oi + 3] - u0 * l30 - u1 * l31 - u2 * l32) * i3;
    }
  }
  // The last (< 4) columns, one at a time.
  for (; j < n; j++) {
    const oj = j * n;
    let s = h[oj + j];
    for (let q = 0; q < j; q++) s -= h[oj + q] * h[oj + q];
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    h[oj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const oi = i * n;
      let t = h[oi + j];
      for (let q = 0; q < j; q++) t -= h[oi + q] * h[oj + q];
      h[oi + j] = t / ljj;
    }
  }
  return true;
}

/** Solve L Lᵀ x = b in place (b becomes x) with the factor from `choleskyInPlace`. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): void {
  // Forward: L y = b, row by row.
  for (let i = 0; i < n; i++) {
    const oi = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[oi + k] * b[k];
    b[i] = s / l[oi + i];
  }
  // Backward: Lᵀ x = y, column-oriented so that it walks the rows of L.
  for (let i = n - 1; i >= 0; i--) {
    const oi = i * n;
    const xi = b[i] / l[oi + i];
    b[i] = xi;
    if (xi !== 0) for (let k = 0; k < i; k++) b[k] -= l[oi + k] * xi;
  }
}

/** y = A x for a symmetric row-major n×n A (`out` may be given to avoid allocation). */
export function symMatVec(
  a: Float64Array,
  n: number,
  x: Float64Array,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = 0; i < n; i++) {
    const oi = i * n;
    let s0 = 0;
    let s1 = 0;
    let k = 0;
    for (; k + 1 < n; k += 2) {
      s0 += a[oi + k] * x[k];
      s1 += a[oi + k + 1] * x[k + 1];
    }
    if (k < n) s0 += a[oi + k] * x[k];
    out[i] = s0 + s1;
  }
  return out;
}
