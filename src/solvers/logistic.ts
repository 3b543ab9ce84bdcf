import { OptionError } from "../util/errors.ts";
import { gramRows } from "./cholesky.ts";
import { lbfgs } from "./lbfgs.ts";
import {
  initialGradNorm,
  NEWTON_TOL,
  type NewtonFactor,
  type NewtonResult,
  newtonLogistic,
  pathPredictor,
  type RowSet,
  rowsTimes,
  rowsTransposeTimes,
  softplus,
} from "./logistic-newton.ts";
import { PreparedSquare } from "./lstsq-core.ts";
import { type Mat, mat } from "./matrix.ts";
import { addDiagonal, regularizationShift } from "./regularization.ts";
import { minClassCount, stratifiedTestFolds } from "./stratified-kfold.ts";
import { binaryClassTargets } from "./targets.ts";
import type { FitInput, KernelSolver, PredictInput, SolverHyper } from "./types.ts";

/**
 * scikit-learn `LogisticRegressionCV(max_iter=10000, random_state=0)` (docs/protocol.md §6) on the rows of the
 * regularized train kernel as features, binary 0/1 targets (for multi-class, the flattened (example, class) rows):
 * Cs = logspace(−4, 4, 10); 5-fold StratifiedKFold without shuffling; L2 with an unpenalized intercept,
 * Σ_i log(1 + exp(−y_i (w·x_i + b))) + ½ (1/C) ‖w‖²; the best C maximizes the mean fold accuracy (first on ties);
 * refit on all rows at that C. Where scikit-learn's lbfgs stops at its tolerance (1e-4), entk solves every fit —
 * the 50 CV fits and the refit — to the optimum (relative KKT residual ≤ 1e-10) with Newton's method
 * (logistic-newton.ts), warm-started along each fold's C path (from the path's tangent at the previous C, with
 * that fit's last factor) and the refit from the fold-averaged coefficients (as scikit-learn starts it); L-BFGS on
 * the primal takes over only if Newton fails. The starting point changes how many steps a fit takes, not where it
 * ends: every fit stops at the same residual.
 */
/** `numpy.logspace(-4, 4, 10)` as numpy prints it (V8's ** differs from libm's pow by an ulp on one value). */
export const LOGISTIC_CS: readonly number[] = [
  0.0001, 0.000774263682681127, 0.005994842503189409, 0.046415888336127774, 0.3593813663804626, 2.782559402207126,
  21.54434690031882, 166.81005372000558, 1291.5496650148827, 10000.0,
];
export const LOGISTIC_FOLDS = 5;
/** Relative KKT residual ‖∇F‖ / ‖∇F(0)‖ every fit reaches. */
export const LOGISTIC_KKT_TOL = NEWTON_TOL;
const LBFGS_MAX_ITER = 100000;

/** How one fit ended: a CV fold (0–4) or the refit ("refit"). */
export interface LogisticFitInfo {
  fold: number | "refit";
  C: number;
  method: "newton" | "lbfgs";
  /** Steps (Newton's, and for L-BFGS its iterations after Newton's). */
  iterations: number;
  /** Cholesky factorizations of the Newton matrix (Newton steps; the other steps reuse the last factor). */
  factorizations: number;
  /** ‖∇F‖₂ at the solution, recomputed on the primal (w, b) from the kernel rows. */
  gradNorm: number;
  /** gradNorm / ‖∇F(0, 0)‖₂. */
  relKkt: number;
}

export interface LogisticModel {
  /** Feature weights (length P) and intercept. */
  w: Float64Array;
  b: number;
  C: number;
  /** Mean fold accuracy per C in LOGISTIC_CS. */
  cvScores: number[];
  folds: Int32Array;
  shift: number;
  fits: LogisticFitInfo[];
  warnings: string[];
}

/**
 * The primal objective F(w, b) over the rows `rows` of X and its gradient; x = [w; b], y ∈ {−1, +1} per listed row.
 */
function primalObjective(rs: RowSet, y: Float64Array, alpha: number) {
  const p = rs.X.cols;
  const z = new Float64Array(rs.rows.length);
  const s = new Float64Array(rs.rows.length);
  const gw = new Float64Array(p);
  return (x: Float64Array, grad: Float64Array): number => {
    rowsTimes(rs, x, z);
    let loss = 0;
    let sb = 0;
    for (let k = 0; k < z.length; k++) {
      const yz = y[k] * (z[k] + x[p]);
      loss += softplus(-yz);
      // d/dz log(1 + exp(−y z)) = −y·σ(−y z)
      s[k] = -y[k] / (1 + Math.exp(yz));
      sb += s[k];
    }
    rowsTransposeTimes(rs, s, gw);
    let ww = 0;
    for (let j = 0; j < p; j++) {
      ww += x[j] * x[j];
      grad[j] = gw[j] + alpha * x[j];
    }
    grad[p] = sb;
    return loss + 0.5 * alpha * ww;
  };
}

const norm2 = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** The rows × rows block of the symmetric matrix G. */
function subGram(G: Mat, rows: Int32Array): Mat {
  const n = rows.length;
  const out = mat(n, n);
  for (let a = 0; a < n; a++) {
    const off = rows[a] * G.cols;
    for (let k = 0; k < n; k++) out.data[a * n + k] = G.data[off + rows[k]];
  }
  return out;
}

/** One binary problem: rows of X, their Gram block `G`, ±1 targets. */
interface Problem extends RowSet {
  G: Mat;
  y: Float64Array;
}

function problem(X: Mat, Gfull: Mat, rows: Int32Array, y01: ArrayLike<number>): Problem {
  return { X, rows, G: subGram(Gfull, rows), y: Float64Array.from(rows, (i) => (y01[i] === 1 ? 1 : -1)) };
}

interface FitOut {
  w: Float64Array;
  b: number;
  /** Row-space coefficients (w = X[rows]ᵀ c), when Newton produced them. */
  c?: Float64Array;
  /** Newton's result, when it converged (for the path predictor). */
  newton?: NewtonResult;
  info: Omit<LogisticFitInfo, "fold">;
  failure?: string;
}

/** Solve one problem at C to the optimum: Newton, or L-BFGS on the primal from Newton's last point if it fails. */
function fitAt(pb: Problem, C: number, init: { c?: Float64Array; b?: number; factor?: NewtonFactor }): FitOut {
  const alpha = 1 / C;
  const res = newtonLogistic(pb, pb.G, pb.y, alpha, init);
  if (res.converged)
    return {
      w: res.w,
      b: res.b,
      c: res.c,
      newton: res,
      info: {
        C,
        method: "newton",
        iterations: res.iterations,
        factorizations: res.factorizations,
        gradNorm: res.gradNorm,
        relKkt: res.relKkt,
      },
    };
  const P = pb.X.cols;
  const g0 = initialGradNorm(pb, pb.y);
  const fun = primalObjective(pb, pb.y, alpha);
  const x = new Float64Array(P + 1);
  x.set(res.w);
  x[P] = res.b;
  // To the same residual on the largest gradient component; no stop on a small decrease of F.
  const lb = lbfgs(fun, x, { gtol: (LOGISTIC_KKT_TOL * g0) / Math.sqrt(P + 1), maxIter: LBFGS_MAX_ITER, ftol: 0 });
  const grad = new Float64Array(P + 1);
  fun(lb.x, grad);
  const gradNorm = norm2(grad);
  return {
    w: lb.x.slice(0, P),
    b: lb.x[P],
    info: {
      C,
      method: "lbfgs",
      iterations: res.iterations + lb.iterations,
      factorizations: res.factorizations,
      gradNorm,
      relKkt: gradNorm / g0,
    },
    failure: res.failure,
  };
}

export function logisticFit(train: FitInput, hyper: Pick<SolverHyper, "reg">): LogisticModel {
  if (train.f0)
    throw new OptionError("adjustForInit", (n) => `the logistic solver does not support ${n("adjustForInit")} (f0)`);
  const prep = train.prepared ?? new PreparedSquare(train.K);
  const shift = regularizationShift(prep, hyper.reg);
  const X = addDiagonal(train.K, shift);
  const y01 = binaryClassTargets(train.y);
  const classes = new Set(y01);
  if (classes.size !== 2 || !classes.has(0) || !classes.has(1))
    throw new Error(`logistic: needs both classes 0 and 1 among the targets, got {${[...classes].join(", ")}}`);
  const warnings: string[] = [];
  if (minClassCount(y01) < LOGISTIC_FOLDS)
    warnings.push(
      `the least populated class has fewer than ${LOGISTIC_FOLDS} members (stratified CV, as sklearn warns)`,
    );
  const folds = stratifiedTestFolds(y01, LOGISTIC_FOLDS);
  // One Gram matrix X Xᵀ serves every fold (its blocks) and the refit.
  const Gfull = gramRows(X);
  const P = X.rows;
  const nC = LOGISTIC_CS.length;
  const scoreSum = new Array<number>(nC).fill(0);
  const fits: LogisticFitInfo[] = [];
  // Per C: the fold solutions summed (b, and c zero-padded to all P rows) for the refit's starting point.
  const sumC = LOGISTIC_CS.map(() => new Float64Array(P));
  const sumB = new Array<number>(nC).fill(0);
  const note = (out: FitOut, fold: number | "refit") => {
    fits.push({ fold, ...out.info });
    if (out.failure)
      warnings.push(`Newton fell back to L-BFGS (fold ${fold}, C = ${out.info.C.toExponential(3)}): ${out.failure}`);
    if (!(out.info.relKkt <= 10 * LOGISTIC_KKT_TOL))
      warnings.push(
        `fit not at the optimum (fold ${fold}, C = ${out.info.C.toExponential(3)}): relative KKT residual ${out.info.relKkt.toExponential(2)}`,
      );
  };
  for (let f = 0; f < LOGISTIC_FOLDS; f++) {
    const tr = Int32Array.from(folds.keys()).filter((i) => folds[i] !== f);
    const te = Int32Array.from(folds.keys()).filter((i) => folds[i] === f);
    const pb = problem(X, Gfull, tr, y01);
    let init: { c?: Float64Array; b?: number; factor?: NewtonFactor } = {};
    LOGISTIC_CS.forEach((C, ci) => {
      const out = fitAt(pb, C, init);
      note(out, f);
      const next = LOGISTIC_CS[ci + 1];
      // The next C starts on the path's tangent, with this fit's last factor (logistic-newton.ts).
      if (out.newton && next)
        init = { ...pathPredictor(pb, pb.G, pb.y, out.newton, 1 / next), factor: out.newton.factor };
      else init = out.c ? { c: out.c, b: out.b } : {};
      if (out.c) for (let k = 0; k < tr.length; k++) sumC[ci][tr[k]] += out.c[k];
      sumB[ci] += out.b;
      let hit = 0;
      const zte = rowsTimes({ X, rows: te }, out.w);
      te.forEach((i, k) => {
        if ((zte[k] + out.b > 0 ? 1 : 0) === y01[i]) hit++;
      });
      scoreSum[ci] += hit / te.length;
    });
  }
  let best = 0;
  for (let ci = 1; ci < nC; ci++) if (scoreSum[ci] > scoreSum[best]) best = ci;
  // The refit starts from the fold average, as scikit-learn's does (w = Xᵀc for the zero-padded average c).
  const all = Int32Array.from({ length: P }, (_, i) => i);
  const C = LOGISTIC_CS[best];
  const refit = fitAt(problem(X, Gfull, all, y01), C, {
    c: sumC[best].map((v) => v / LOGISTIC_FOLDS),
    b: sumB[best] / LOGISTIC_FOLDS,
  });
  note(refit, "refit");
  return {
    w: refit.w,
    b: refit.b,
    C,
    cvScores: scoreSum.map((s) => s / LOGISTIC_FOLDS),
    folds,
    shift,
    fits,
    warnings,
  };
}

/** The log-odds log p1 − log p0 = w·x + b of each eval column x = K_e[:, q]. */
export function logisticPredict(model: LogisticModel, input: PredictInput): Float64Array {
  if (input.f0)
    throw new OptionError("adjustForInit", (n) => `the logistic solver does not support ${n("adjustForInit")} (f0)`);
  const K = input.K;
  if (K.rows !== model.w.length)
    throw new Error(`predict: eval kernel has ${K.rows} train rows, model has ${model.w.length}`);
  const out = new Float64Array(K.cols).fill(model.b);
  for (let p = 0; p < K.rows; p++) {
    const wp = model.w[p];
    const off = p * K.cols;
    for (let q = 0; q < K.cols; q++) out[q] += wp * K.data[off + q];
  }
  return out;
}

export const logisticSolver: KernelSolver<LogisticModel> = {
  name: "logistic",
  acceptsF0: false,
  fit: logisticFit,
  predict: logisticPredict,
  describe: (m) => ({
    C: m.C,
    cv_scores: m.cvScores,
    reg_shift: m.shift,
    fits: m.fits.map((f) => ({
      fold: f.fold,
      C: f.C,
      method: f.method,
      iterations: f.iterations,
      factorizations: f.factorizations,
      grad_norm: f.gradNorm,
      rel_kkt: f.relKkt,
    })),
    warnings: m.warnings,
  }),
};
