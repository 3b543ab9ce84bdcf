import { type Mat, mat } from "../../src/solvers/matrix.ts";

/** Deterministic uniform(−0.5, 0.5) stream (Park–Miller), so tests need no seeds from elsewhere. */
export function rng(seed = 1): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

export function randMat(rows: number, cols: number, r = rng()): Mat {
  return mat(rows, cols, Float64Array.from({ length: rows * cols }, r));
}

export function mul(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++)
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += a.data[i * a.cols + k] * b.data[k * b.cols + j];
  return out;
}

export function tr(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

export function vec(a: Float64Array): Mat {
  return mat(a.length, 1, Float64Array.from(a));
}

/** Independent reference: Gaussian elimination with partial pivoting, float64 (A square, nonsingular). */
export function gaussSolve(a: Mat, b: Float64Array): Float64Array {
  const n = a.rows;
  const A = Array.from({ length: n }, (_, i) => [...a.data.subarray(i * n, (i + 1) * n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    for (let r = c + 1; r < n; r++) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= n; k++) A[r][k] -= f * A[c][k];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = A[r][n];
    for (let k = r + 1; k < n; k++) s -= A[r][k] * x[k];
    x[r] = s / A[r][r];
  }
  return x;
}

/** Inverse of a small nonsingular matrix via gaussSolve on the identity's columns. */
export function inverse(a: Mat): Mat {
  const n = a.rows;
  const out = mat(n, n);
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    const x = gaussSolve(a, e);
    for (let i = 0; i < n; i++) out.data[i * n + j] = x[i];
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
