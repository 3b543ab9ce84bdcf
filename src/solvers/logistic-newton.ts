import { choleskyInPlace, choleskySolveInPlace, symMatVec } from "./cholesky.ts";
import { dot, type Mat } from "./matrix.ts";

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
 * Everything else is evaluated on the primal from the rows of X — ∇F = Xᵀs + αw, Δw = XᵀΔc (one pass over X for
 * both), Δz = XΔw + Δb — not through G: for an ill-conditioned kernel G c sums terms of size ‖G‖·‖c‖ ≫ |z| and would
 * lose the digits the 1e-10 residual needs, while G's rounding only perturbs the step. z = Xw + b is carried along
 * (z += tΔz) and recomputed from w before convergence is declared, so the reported residual is the primal one.
 * A backtracking (Armijo) line search on F globalizes it.
 *
 * Factorizations dominate (n³/3 each, against O(n² + nP) for everything else), so a factor is kept while it works.
 * A step through an older factor (a chord step: the Hessian of an earlier point or of the previous α, positive
 * definite, so still a descent direction) costs a product with G and two triangular solves instead. The step after a Newton step always goes through its factor,
 * and a fit on a regularization path starts with the factor of the previous α; further steps keep the factor as
 * long as the previous step shrank the gradient norm by CHORD_RATE, and M is refactored at the current point
 * otherwise (or when a chord step finds no decrease). Every fit still ends at the same residual on the primal.
 * (An earlier version that used an older factor as a conjugate-gradient preconditioner was measured slower.)
 */
export interface NewtonOptions {
  tol?: number;
  maxIter?: number;
}

export interface NewtonResult {
  /** Row-space coefficients: w = Xᵀc. */
  c: Float64Array;
  b: number;
  /** Steps taken (Newton steps and chord steps through an older factor). */
  iterations: number;
  /** Cholesky factorizations of the Newton matrix. */
  factorizations: number;
  /** The last factor (at the last Newton point), for a tangent predictor along a regularization path. */
  factor?: NewtonFactor;
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

/**
 * A factored Newton matrix: the Cholesky factor of M = αI + S G S (lower triangle of `l`), the S = D^½ and α it was
 * built with, and q₁ = M⁻¹(α S 1), which every step through this factor shares.
 */
export interface NewtonFactor {
  l: Float64Array;
  sq: Float64Array;
  alpha: number;
  q1: Float64Array;
  /** Sᵀq₁ (> 0). */
  den: number;
}

/** Factor M = αI + S G S for S = `sq` into `l` (reused when given); undefined when M is not numerically PD. */
function factorNewton(G: Mat, sq: Float64Array, alpha: number, l?: Float64Array): NewtonFactor | undefined {
  const n = G.rows;
  const g = G.data;
  const a = l ?? new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * n;
    const si = sq[i];
    for (let k = 0; k <= i; k++) a[oi + k] = si * g[oi + k] * sq[k];
    a[oi + i] += alpha;
  }
  if (!choleskyInPlace(a, n)) return undefined;
  const q1 = Float64Array.from(sq, (v) => alpha * v);
  choleskySolveInPlace(a, n, q1);
  const den = dot(sq, q1);
  if (!(den > 0)) return undefined;
  return { l: a, sq: Float64Array.from(sq), alpha, q1, den };
}

/**
 * The step −H⁻¹(Xᵀr, sb) for the Hessian H that `f` factors (the Woodbury form at the top of this file, with
 * r = s + αc for a Newton step): writes Δc into `dc` and returns Δb (NaN if degenerate).
 */
export function factoredStep(G: Mat, f: NewtonFactor, r: Float64Array, sb: number, dc: Float64Array): number {
  const n = G.rows;
  const { l, sq, alpha, q1, den } = f;
  const q0 = symMatVec(G.data, n, r);
  for (let i = 0; i < n; i++) q0[i] *= -sq[i];
  choleskySolveInPlace(l, n, q0);
  const db = (-sb - dot(sq, q0)) / den;
  if (!Number.isFinite(db)) return Number.NaN;
  for (let i = 0; i < n; i++) dc[i] = -(r[i] + sq[i] * (q0[i] + db * q1[i])) / alpha;
  return db;
}

/** Another step through an older factor is taken while the previous one shrank the gradient norm this much. */
const CHORD_RATE = 0.5;

/** outA = Σ_k a_k X[rows[k]] and outB = Σ_k b_k X[rows[k]] in one pass over the rows. */
function rowsTransposeTimes2(rs: RowSet, a: Float64Array, bv: Float64Array, outA: Float64Array, outB: Float64Array) {
  const { X, rows } = rs;
  const p = X.cols;
  const d = X.data;
  outA.fill(0);
  outB.fill(0);
  for (let k = 0; k < rows.length; k++) {
    const ak = a[k];
    const bk = bv[k];
    const off = rows[k] * p;
    for (let j = 0; j < p; j++) {
      const x = d[off + j];
      outA[j] += ak * x;
      outB[j] += bk * x;
    }
  }
}

export function newtonLogistic(
  rs: RowSet,
  G: Mat,
  y: Float64Array,
  alpha: number,
  init: { c?: Float64Array; b?: number; factor?: NewtonFactor } = {},
  opts: NewtonOptions = {},
): NewtonResult {
  const n = G.rows;
  const P = rs.X.cols;
  if (rs.rows.length !== n || y.length !== n) throw new Error(`newtonLogistic: ${rs.rows.length} rows, G is ${n}×${n}`);
  const tol = opts.tol ?? NEWTON_TOL;
  const maxIter = opts.maxIter ?? 300;
  const g0 = initialGradNorm(rs, y) || 1;
  const c = init.c ? Float64Array.from(init.c) : new Float64Array(n);
  let b = init.b ?? 0;
  const w = rowsTransposeTimes(rs, c);
  const z = new Float64Array(n);
  const s = new Float64Array(n);
  const sq = new Float64Array(n); // S = D^½ at the current point
  const r = new Float64Array(n);
  const gw = new Float64Array(P);
  const dc = new Float64Array(n);
  const dw = new Float64Array(P);
  const dz = new Float64Array(n);
  let fac = init.factor && init.factor.sq.length === n ? init.factor : undefined;
  let factorizations = 0;
  let prevRel = Number.POSITIVE_INFINITY;
  let gradNorm = Number.NaN;
  let relKkt = Number.NaN;
  let zExact = false; // z = Xw + b recomputed at this point (not carried along)
  let lastFresh = false; // the last step was Newton's (through a factor made at its point)

  const exactZ = () => {
    rowsTimes(rs, w, z);
    for (let i = 0; i < n; i++) z[i] += b;
    zExact = true;
  };
  const done = (iterations: number, converged: boolean, failure?: string): NewtonResult => ({
    c,
    w,
    b,
    iterations,
    factorizations,
    gradNorm,
    relKkt,
    converged,
    ...(fac ? { factor: fac } : {}),
    ...(failure ? { failure } : {}),
  });
  const refactor = () => {
    fac = factorNewton(G, sq, alpha, fac?.l);
    factorizations++;
    return fac;
  };

  exactZ();
  for (let it = 0; ; it++) {
    let sb = 0;
    for (let i = 0; i < n; i++) {
      // s = d/dz log(1 + exp(−y z)) = −y σ(−y z); D = σ(z) σ(−z).
      const e = Math.exp(-Math.abs(z[i]));
      const hi = 1 / (1 + e); // σ(|z|)
      const lo = e / (1 + e); // σ(−|z|)
      s[i] = -y[i] * (y[i] * z[i] > 0 ? lo : hi);
      sq[i] = Math.sqrt(hi * lo);
      r[i] = s[i] + alpha * c[i];
      sb += s[i];
    }
    // The step through the current factor (fresh when there is none), and ∇_w F with Δw in one pass.
    let fresh = false;
    if (!fac) {
      if (!refactor()) return done(it, false, "the Newton matrix is not numerically positive definite");
      fresh = true;
    }
    let db = factoredStep(G, fac as NewtonFactor, r, sb, dc);
    rowsTransposeTimes2(rs, s, dc, gw, dw);
    for (let j = 0; j < P; j++) gw[j] += alpha * w[j];
    gradNorm = Math.sqrt(dot(gw, gw) + sb * sb);
    relKkt = gradNorm / g0;
    if (!Number.isFinite(relKkt)) return done(it, false, "non-finite gradient");
    if (relKkt <= tol) {
      if (zExact) return done(it, true);
      exactZ(); // confirm on z recomputed from w
      it--;
      continue;
    }
    if (it >= maxIter) return done(it, false, `no convergence in ${maxIter} Newton iterations`);
    // An older factor that no longer contracts (or gives no usable step): refactor at this point.
    const stale = relKkt > CHORD_RATE * prevRel && !lastFresh;
    if (!fresh && (stale || !Number.isFinite(db))) {
      if (!refactor()) return done(it, false, "the Newton matrix is not numerically positive definite");
      fresh = true;
      db = factoredStep(G, fac as NewtonFactor, r, sb, dc);
      rowsTransposeTimes(rs, dc, dw);
    }
    prevRel = relKkt;
    let t = 0;
    for (;;) {
      if (!Number.isFinite(db)) return done(it, false, "degenerate intercept step");
      rowsTimes(rs, dw, dz);
      for (let i = 0; i < n; i++) dz[i] += db;
      t = lineSearch(y, z, dz, w, dw, alpha, dot(gw, dw) + sb * db);
      if (t > 0) break;
      if (fresh) return done(it, false, "line search failed");
      // No decrease along a chord step: take Newton's step at this point instead.
      if (!refactor()) return done(it, false, "the Newton matrix is not numerically positive definite");
      fresh = true;
      db = factoredStep(G, fac as NewtonFactor, r, sb, dc);
      rowsTransposeTimes(rs, dc, dw);
    }
    for (let i = 0; i < n; i++) {
      c[i] += t * dc[i];
      z[i] += t * dz[i];
    }
    for (let j = 0; j < P; j++) w[j] += t * dw[j];
    b += t * db;
    zExact = false;
    lastFresh = fresh;
  }
}

/**
 * Armijo backtracking on F(w + tΔw, b + tΔb) from t = 1 (z + tΔz carries the intercept), given the directional
 * derivative `slope`; 0 when no step of at least 1e-12 decreases F enough. Near the optimum F's decrease is below
 * its rounding error (|slope| at that level): the full step is taken.
 */
function lineSearch(
  y: Float64Array,
  z: Float64Array,
  dz: Float64Array,
  w: Float64Array,
  dw: Float64Array,
  alpha: number,
  slope: number,
): number {
  const ww = dot(w, w);
  const wd = dot(w, dw);
  const dd = dot(dw, dw);
  const F = (t: number) => {
    let loss = 0;
    for (let i = 0; i < z.length; i++) loss += softplus(-y[i] * (z[i] + t * dz[i]));
    return loss + 0.5 * alpha * (ww + t * (2 * wd + t * dd));
  };
  const f0 = F(0);
  if (Math.abs(slope) <= 1e-13 * Math.max(1, Math.abs(f0))) return 1;
  if (!(slope < 0)) return 0;
  let t = 1;
  while (F(t) > f0 + 1e-4 * t * slope) {
    t *= 0.5;
    if (t < 1e-12) return 0;
  }
  return t;
}

/** Multiples of (α' − α)·dx/dα that the path predictor compares (0: the previous optimum itself). */
const PREDICTOR_STEPS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];

/**
 * A starting point for the fit at `alphaNext` from the optimum `res` at α: along the tangent of the solution path,
 * x + h·(α' − α)·dx/dα with dx/dα = −H⁻¹(w, 0) through the last factor, the h in PREDICTOR_STEPS with the lowest
 * objective at α' (h = 0 is the previous optimum). Three passes over the rows; the objective along the line is
 * then O(n + P) per h.
 */
export function pathPredictor(
  rs: RowSet,
  G: Mat,
  y: Float64Array,
  res: NewtonResult,
  alphaNext: number,
): { c: Float64Array; b: number } {
  const f = res.factor;
  if (!f || f.sq.length !== res.c.length) return { c: res.c, b: res.b };
  const n = res.c.length;
  const dc = new Float64Array(n);
  const db = factoredStep(G, f, res.c, 0, dc);
  if (!Number.isFinite(db)) return { c: res.c, b: res.b };
  const z = rowsTimes(rs, res.w);
  const dw = rowsTransposeTimes(rs, dc);
  const dz = rowsTimes(rs, dw);
  const ww = dot(res.w, res.w);
  const wd = dot(res.w, dw);
  const dd = dot(dw, dw);
  let best = 0;
  let fBest = Number.POSITIVE_INFINITY;
  for (const m of PREDICTOR_STEPS) {
    const h = m * (alphaNext - f.alpha);
    let loss = 0;
    for (let i = 0; i < n; i++) loss += softplus(-y[i] * (z[i] + res.b + h * (dz[i] + db)));
    const F = loss + 0.5 * alphaNext * (ww + h * (2 * wd + h * dd));
    if (F < fBest) {
      fBest = F;
      best = h;
    }
  }
  return { c: res.c.map((v, i) => v + best * dc[i]), b: res.b + best * db };
}
