import { choleskyInPlace, choleskySolveInPlace, symMatVec } from "./cholesky.ts";
import type { Mat } from "./matrix.ts";

/**
 * Newton's method for one L2-regularized binary logistic regression with an unpenalized intercept,
 *
 *   F(w, b) = Σ_i log(1 + exp(−y_i (x_i·w + b))) + ½ α ‖w‖²,   y_i ∈ {−1, +1},
 *
 * the problem scikit-learn's LogisticRegressionCV states (docs/protocol.md §6, α = 1/C), solved to a relative
 * KKT residual ‖∇F(w, b)‖ / ‖∇F(0, 0)‖ ≤ `tol` (liblinear's stopping rule, at 1e-10 by default).
 *
 * The iterates stay in the row space of X (w = Xᵀc): the gradient Xᵀ(s + αc) is there, and so is the Newton step,
 * because the Hessian XᵀDX + αI maps that space to itself. Newton's step for (w, b) is then computed through the
 * n×n Gram matrix G = X Xᵀ (a Woodbury-type elimination; eliminating w from the primal Newton system):
 *
 *   s = ∂loss/∂z, D = diag(σ(z)σ(−z)), r = s + αc, S = D^½, M = αI + S G S (eigenvalues ≥ α),
 *   q₀ = M⁻¹(−S G r), q₁ = M⁻¹(α S 1), Δb = (−1ᵀs − Sᵀq₀) / Sᵀq₁, Δc = −(r + S (q₀ + Δb q₁)) / α,
 *
 * which is the exact primal Newton step Δw = XᵀΔc (it solves [XᵀDX + αI, XᵀD1; 1ᵀDX, 1ᵀD1]·[Δw; Δb] = −∇F).
 * Everything else is evaluated on the primal from the rows of X — z = Xw + b, ∇F, Δw = XᵀΔc, Δz = XΔw + Δb — not
 * through G: for an ill-conditioned kernel G c sums terms of size ‖G‖·‖c‖ ≫ |z| and would lose the digits the
 * 1e-10 residual needs, while G's rounding only perturbs the step. A backtracking (Armijo) line search on F
 * globalizes it. Each iteration factors M once (Cholesky) and solves both systems with the factor. (Reusing an
 * older factor as a conjugate-gradient preconditioner was measured slower: the factor goes stale within one step.)
 */
export interface NewtonOptions {
  tol?: number;
  maxIter?: number;
}

export interface NewtonResult {
  /** Row-space coefficients: w = Xᵀc. */
  c: Float64Array;
  b: number;
  iterations: number;
  /** Primal weights w = Xᵀc (updated by the explicit Δw = XᵀΔc). */
  w: Float64Array;
  /** ‖∇F‖₂ at the returned point, evaluated on the primal. */
  gradNorm: number;
  /** gradNorm / ‖∇F(0, 0)‖₂. */
  relKkt: number;
  converged: boolean;
  /** Why Newton stopped early (non-finite values, a failed line search), when it did. */
  failure?: string;
}

export const NEWTON_TOL = 1e-10;

/** log(1 + exp(t)) without overflow. */
export function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** The rows `rows` of X as the primal sees them: z = X[rows] w, and Xᵀv = Σ_k v_k X[rows[k]]. */
export interface RowSet {
  X: Mat;
  rows: Int32Array;
}

/** out[k] = X[rows[k]] · w. */
export function rowsTimes(rs: RowSet, w: Float64Array, out: Float64Array = new Float64Array(rs.rows.length)) {
  const { X, rows } = rs;
  const p = X.cols;
  const d = X.data;
  for (let k = 0; k < rows.length; k++) {
    const off = rows[k] * p;
    let z0 = 0;
    let z1 = 0;
    let j = 0;
    for (; j + 1 < p; j += 2) {
      z0 += d[off + j] * w[j];
      z1 += d[off + j + 1] * w[j + 1];
    }
    if (j < p) z0 += d[off + j] * w[j];
    out[k] = z0 + z1;
  }
  return out;
}

/** Σ_k v_k X[rows[k]] (a P-vector). */
export function rowsTransposeTimes(rs: RowSet, v: Float64Array, out: Float64Array = new Float64Array(rs.X.cols)) {
  const { X, rows } = rs;
  const p = X.cols;
  out.fill(0);
  for (let k = 0; k < rows.length; k++) {
    const a = v[k];
    if (a === 0) continue;
    const off = rows[k] * p;
    for (let j = 0; j < p; j++) out[j] += a * X.data[off + j];
  }
  return out;
}

/** ‖∇F(0, 0)‖₂ for targets y (s = −y/2). */
export function initialGradNorm(rs: RowSet, y: Float64Array): number {
  const s = y.map((v) => -v / 2);
  const gw = rowsTransposeTimes(rs, s);
  let sb = 0;
  for (const v of s) sb += v;
  return Math.sqrt(dot(gw, gw) + sb * sb);
}

export function newtonLogistic(
  rs: RowSet,
  G: Mat,
  y: Float64Array,
  alpha: number,
  init: { c?: Float64Array; b?: number } = {},
  opts: NewtonOptions = {},
): NewtonResult {
  const n = G.rows;
  const P = rs.X.cols;
  if (rs.rows.length !== n || y.length !== n) throw new Error(`newtonLogistic: ${rs.rows.length} rows, G is ${n}×${n}`);
  const g = G.data;
  const tol = opts.tol ?? NEWTON_TOL;
  const maxIter = opts.maxIter ?? 100;
  const g0 = initialGradNorm(rs, y) || 1;
  const c = init.c ? Float64Array.from(init.c) : new Float64Array(n);
  let b = init.b ?? 0;
  const w = rowsTransposeTimes(rs, c);
  const z = new Float64Array(n);
  const s = new Float64Array(n);
  const sq = new Float64Array(n); // S = D^½
  const r = new Float64Array(n);
  const Gr = new Float64Array(n);
  const gw = new Float64Array(P);
  const dc = new Float64Array(n);
  const dw = new Float64Array(P);
  const dz = new Float64Array(n);
  const l = new Float64Array(n * n);
  let gradNorm = Number.NaN;
  let relKkt = Number.NaN;

  const objective = (t: number) => {
    let loss = 0;
    for (let i = 0; i < n; i++) loss += softplus(-y[i] * (z[i] + t * dz[i]));
    let ww = 0;
    for (let j = 0; j < P; j++) ww += (w[j] + t * dw[j]) ** 2;
    return loss + 0.5 * alpha * ww;
  };
  /** Cholesky factor of M = αI + S G S (lower triangle of l). */
  const factor = () => {
    for (let i = 0; i < n; i++) {
      const oi = i * n;
      for (let k = 0; k <= i; k++) l[oi + k] = sq[i] * g[oi + k] * sq[k];
      l[oi + i] += alpha;
    }
    return choleskyInPlace(l, n);
  };
  const solveM = (rhs: Float64Array) => {
    choleskySolveInPlace(l, n, rhs);
    return rhs;
  };
  const done = (iterations: number, converged: boolean, failure?: string): NewtonResult => ({
    c,
    w,
    b,
    iterations,
    gradNorm,
    relKkt,
    converged,
    ...(failure ? { failure } : {}),
  });

  for (let it = 0; ; it++) {
    rowsTimes(rs, w, z);
    let sb = 0;
    for (let i = 0; i < n; i++) {
      z[i] += b;
      // s = d/dz log(1 + exp(−y z)) = −y σ(−y z); D = σ(z) σ(−z).
      const e = Math.exp(-Math.abs(z[i]));
      const hi = 1 / (1 + e); // σ(|z|)
      const lo = e / (1 + e); // σ(−|z|)
      s[i] = -y[i] * (y[i] * z[i] > 0 ? lo : hi);
      sq[i] = Math.sqrt(hi * lo);
      r[i] = s[i] + alpha * c[i];
      sb += s[i];
    }
    rowsTransposeTimes(rs, s, gw);
    for (let j = 0; j < P; j++) gw[j] += alpha * w[j];
    gradNorm = Math.sqrt(dot(gw, gw) + sb * sb);
    relKkt = gradNorm / g0;
    if (!Number.isFinite(relKkt)) return done(it, false, "non-finite gradient");
    if (relKkt <= tol) return done(it, true);
    if (it >= maxIter) return done(it, false, `no convergence in ${maxIter} Newton iterations`);
    symMatVec(g, n, r, Gr);

    // Newton step through the Woodbury form (see the comment at the top).
    const rhs0 = new Float64Array(n);
    const rhs1 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      rhs0[i] = -sq[i] * Gr[i];
      rhs1[i] = alpha * sq[i];
    }
    if (!factor()) return done(it, false, "the Newton matrix is not numerically positive definite");
    const q0 = solveM(rhs0);
    const q1 = solveM(rhs1);
    const den = dot(sq, q1);
    const db = (-sb - dot(sq, q0)) / den;
    if (!Number.isFinite(db) || !(den > 0)) return done(it, false, "degenerate intercept step");
    for (let i = 0; i < n; i++) dc[i] = -(r[i] + sq[i] * (q0[i] + db * q1[i])) / alpha;
    rowsTransposeTimes(rs, dc, dw);
    rowsTimes(rs, dw, dz);
    for (let i = 0; i < n; i++) dz[i] += db;
    // Directional derivative F'(0) = ∇F·(Δw, Δb) = −(Newton decrement)².
    const slope = dot(gw, dw) + sb * db;
    const f0 = objective(0);
    let t = 1;
    // Near the optimum F's decrease is below its rounding error: take the full step.
    if (slope < -1e-13 * Math.max(1, Math.abs(f0))) {
      while (objective(t) > f0 + 1e-4 * t * slope) {
        t *= 0.5;
        if (t < 1e-12) return done(it, false, "line search failed");
      }
    }
    for (let i = 0; i < n; i++) c[i] += t * dc[i];
    for (let j = 0; j < P; j++) w[j] += t * dw[j];
    b += t * db;
  }
}
