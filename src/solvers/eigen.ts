import type { Mat } from "./matrix.ts";

/**
 * Eigendecomposition A = Σ_k λ_k v_k v_kᵀ of a symmetric matrix, in float64: Householder tridiagonalization followed
 * by the implicit QL algorithm (tred2/tql2 of EISPACK, as in JAMA). Eigenvectors are stored as the *rows* of
 * `vectors` (row k = v_k), so every inner loop walks contiguous memory; eigenvalues are not sorted.
 *
 * Written here rather than taken from a package because the solvers need (n·C)² systems up to 1600² (64-shot
 * SST-5) in seconds; see test/solvers/linalg.test.ts and scripts/bench-solvers.ts for the measured timings.
 */
export interface SymEig {
  n: number;
  values: Float64Array;
  /** n×n, row k is the unit eigenvector of values[k]; absent when only eigenvalues were requested. */
  vectors?: Float64Array;
}

export function symEig(a: Mat, opts: { vectors?: boolean } = {}): SymEig {
  const wantVectors = opts.vectors ?? true;
  const n = a.rows;
  if (a.cols !== n) throw new Error(`symEig: matrix is ${a.rows}×${a.cols}, expected square`);
  if (n === 0) return { n, values: new Float64Array(0), vectors: wantVectors ? new Float64Array(0) : undefined };
  // W = Vᵀ in JAMA's notation: V(r, c) = W[c·n + r]. A is symmetric, so W starts as A itself.
  const W = Float64Array.from(a.data);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(n, W, d, e, wantVectors);
  tql2(n, W, d, e, wantVectors);
  return { n, values: d, vectors: wantVectors ? W : undefined };
}

function tred2(n: number, W: Float64Array, d: Float64Array, e: Float64Array, accumulate: boolean): void {
  for (let j = 0; j < n; j++) d[j] = W[j * n + (n - 1)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + (i - 1)];
        W[j * n + i] = 0;
        W[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        W[i * n + j] = f;
        const oj = j * n;
        g = e[j] + W[oj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = W[oj + k];
          g += v * d[k];
          e[k] += v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const oj = j * n;
        for (let k = j; k <= i - 1; k++) W[oj + k] -= f * e[k] + g * d[k];
        d[j] = W[oj + i - 1];
        W[oj + i] = 0;
      }
    }
    d[i] = h;
  }
  if (accumulate) {
    for (let i = 0; i < n - 1; i++) {
      W[i * n + (n - 1)] = W[i * n + i];
      W[i * n + i] = 1;
      const h = d[i + 1];
      const oi1 = (i + 1) * n;
      if (h !== 0) {
        for (let k = 0; k <= i; k++) d[k] = W[oi1 + k] / h;
        for (let j = 0; j <= i; j++) {
          const oj = j * n;
          let g = 0;
          for (let k = 0; k <= i; k++) g += W[oi1 + k] * W[oj + k];
          for (let k = 0; k <= i; k++) W[oj + k] -= g * d[k];
        }
      }
      for (let k = 0; k <= i; k++) W[oi1 + k] = 0;
    }
    for (let j = 0; j < n; j++) {
      d[j] = W[j * n + (n - 1)];
      W[j * n + (n - 1)] = 0;
    }
    W[(n - 1) * n + (n - 1)] = 1;
  } else {
    for (let j = 0; j < n; j++) d[j] = W[j * n + j];
  }
  e[0] = 0;
}

function tql2(n: number, W: Float64Array, d: Float64Array, e: Float64Array, accumulate: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error(`symEig: QL iteration did not converge for eigenvalue ${l} of ${n}`);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (accumulate) {
            const oi = i * n;
            const oi1 = oi + n;
            for (let k = 0; k < n; k++) {
              const hk = W[oi1 + k];
              const vk = W[oi + k];
              W[oi1 + k] = s * vk + c * hk;
              W[oi + k] = c * vk - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
