/** A dense row-major float64 matrix. A kernel `[n, C, m, C]` in C order is already the (n·C)×(m·C) matrix. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function mat(rows: number, cols: number, data?: Float64Array): Mat {
  if (data && data.length !== rows * cols)
    throw new Error(`matrix ${rows}×${cols} needs ${rows * cols} entries, got ${data.length}`);
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

/** Σ_i a_i·b_i. */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** y = Aᵀ x (x has length A.rows): row-oriented, so it streams over A once. */
export function matTVec(a: Mat, x: Float64Array): Float64Array {
  if (x.length !== a.rows) throw new Error(`matTVec: vector length ${x.length} ≠ rows ${a.rows}`);
  const y = new Float64Array(a.cols);
  for (let i = 0; i < a.rows; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const off = i * a.cols;
    for (let j = 0; j < a.cols; j++) y[j] += xi * a.data[off + j];
  }
  return y;
}

/** y = A x (x has length A.cols). */
export function matVec(a: Mat, x: Float64Array): Float64Array {
  if (x.length !== a.cols) throw new Error(`matVec: vector length ${x.length} ≠ cols ${a.cols}`);
  const y = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    const off = i * a.cols;
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += a.data[off + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** AᵀA for a square or tall A (used for σ_max of a nonsymmetric matrix). */
export function gram(a: Mat): Mat {
  const n = a.cols;
  const out = mat(n, n);
  for (let k = 0; k < a.rows; k++) {
    const off = k * n;
    for (let i = 0; i < n; i++) {
      const aki = a.data[off + i];
      if (aki === 0) continue;
      const oi = i * n;
      for (let j = i; j < n; j++) out.data[oi + j] += aki * a.data[off + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out.data[i * n + j] = out.data[j * n + i];
  return out;
}

/** max |A_ij − A_ji| / max |A_ij| (0 for a zero matrix); Infinity if A is not square. */
export function asymmetry(a: Mat): number {
  if (a.rows !== a.cols) return Number.POSITIVE_INFINITY;
  const n = a.rows;
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = a.data[i * n + j];
      scale = Math.max(scale, Math.abs(v));
      if (j > i) diff = Math.max(diff, Math.abs(v - a.data[j * n + i]));
    }
  return scale === 0 ? 0 : diff / scale;
}

/** Throw if any entry is NaN or ±Inf, naming `what` and the first bad flat index. */
export function assertFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw new Error(`${what}: entry ${i} is ${data[i]} (expected finite numbers)`);
}
