import { type Mat, mat } from "./matrix.ts";

/**
 * Dense symmetric positive-definite helpers for the logistic solver's Newton systems: the Gram matrix X Xᵀ, an
 * in-place Cholesky factorization and the two triangular solves. Row-major throughout; every inner loop is a dot
 * product of two contiguous rows, computed two rows at a time so that each loaded value is used twice.
 */

/** X Xᵀ (rows of X dotted with each other), symmetric, n×n for an n×p X. */
export function gramRows(x: Mat): Mat {
  const n = x.rows;
  const p = x.cols;
  const d = x.data;
  const out = mat(n, n);
  const o = out.data;
  for (let i = 0; i < n; i += 2) {
    const oi = i * p;
    const two = i + 1 < n;
    const oi2 = two ? oi + p : oi;
    for (let j = 0; j <= i + (two ? 1 : 0) && j < n; j++) {
      const oj = j * p;
      let a0 = 0;
      let a1 = 0;
      let b0 = 0;
      let b1 = 0;
      let k = 0;
      for (; k + 1 < p; k += 2) {
        const x0 = d[oj + k];
        const x1 = d[oj + k + 1];
        a0 += d[oi + k] * x0;
        a1 += d[oi + k + 1] * x1;
        b0 += d[oi2 + k] * x0;
        b1 += d[oi2 + k + 1] * x1;
      }
      if (k < p) {
        a0 += d[oi + k] * d[oj + k];
        b0 += d[oi2 + k] * d[oj + k];
      }
      if (j <= i) {
        o[i * n + j] = a0 + a1;
        o[j * n + i] = a0 + a1;
      }
      if (two) {
        o[(i + 1) * n + j] = b0 + b1;
        o[j * n + i + 1] = b0 + b1;
      }
    }
  }
  return out;
}

/**
 * Overwrite the lower triangle of the n×n symmetric matrix `a` (row-major) with its Cholesky factor L (A = L Lᵀ);
 * the strict upper triangle is left as it was. Left-looking (Crout), two columns at a time and two rows at a time,
 * so each inner step loads four values for four multiply-adds. Returns false (and leaves `a` partly overwritten)
 * when a pivot is not positive, i.e. A is not numerically positive definite.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  let j = 0;
  for (; j + 1 < n; j += 2) {
    const oj = j * n;
    const oj1 = oj + n;
    // The 2×2 diagonal block.
    let s00 = a[oj + j];
    let s10 = a[oj1 + j];
    let s11 = a[oj1 + j + 1];
    for (let k = 0; k < j; k++) {
      const x = a[oj + k];
      const y = a[oj1 + k];
      s00 -= x * x;
      s10 -= y * x;
      s11 -= y * y;
    }
    if (!(s00 > 0)) return false;
    const l00 = Math.sqrt(s00);
    const l10 = s10 / l00;
    const d11 = s11 - l10 * l10;
    if (!(d11 > 0)) return false;
    const l11 = Math.sqrt(d11);
    a[oj + j] = l00;
    a[oj1 + j] = l10;
    a[oj1 + j + 1] = l11;
    const i00 = 1 / l00;
    const i11 = 1 / l11;
    // Rows below, two at a time: L[i, j] and L[i, j+1].
    let i = j + 2;
    for (; i + 1 < n; i += 2) {
      const oi = i * n;
      const oi2 = oi + n;
      let a0 = 0;
      let a1 = 0;
      let b0 = 0;
      let b1 = 0;
      for (let k = 0; k < j; k++) {
        const x = a[oj + k];
        const y = a[oj1 + k];
        const u = a[oi + k];
        const v = a[oi2 + k];
        a0 += u * x;
        a1 += u * y;
        b0 += v * x;
        b1 += v * y;
      }
      const ui = (a[oi + j] - a0) * i00;
      a[oi + j] = ui;
      a[oi + j + 1] = (a[oi + j + 1] - a1 - ui * l10) * i11;
      const vi = (a[oi2 + j] - b0) * i00;
      a[oi2 + j] = vi;
      a[oi2 + j + 1] = (a[oi2 + j + 1] - b1 - vi * l10) * i11;
    }
    if (i < n) {
      const oi = i * n;
      let a0 = 0;
      let a1 = 0;
      for (let k = 0; k < j; k++) {
        const u = a[oi + k];
        a0 += u * a[oj + k];
        a1 += u * a[oj1 + k];
      }
      const ui = (a[oi + j] - a0) * i00;
      a[oi + j] = ui;
      a[oi + j + 1] = (a[oi + j + 1] - a1 - ui * l10) * i11;
    }
  }
  if (j < n) {
    const oj = j * n;
    let s = a[oj + j];
    for (let k = 0; k < j; k++) s -= a[oj + k] * a[oj + k];
    if (!(s > 0)) return false;
    a[oj + j] = Math.sqrt(s);
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
