import { lbfgs } from "./lbfgs.ts";
import { PreparedSquare } from "./lstsq-core.ts";
import { type Mat, mat } from "./matrix.ts";
import { addDiagonal, regularizationShift } from "./regularization.ts";
import { minClassCount, stratifiedTestFolds } from "./stratified-kfold.ts";
import { binaryClassTargets } from "./targets.ts";
import type { FitInput, KernelSolver, PredictInput, SolverHyper } from "./types.ts";

/**
 * scikit-learn 0.24 `LogisticRegressionCV(max_iter=10000, random_state=0)` (the reference's pin) on the rows of the
 * regularized train kernel as features, binary 0/1 targets: Cs = logspace(−4, 4, 10); 5-fold StratifiedKFold
 * without shuffling; for each fold a warm-started path over Cs (each C starts from the previous C's solution);
 * L2, lbfgs on Σ_i log(1 + exp(−y_i (w·x_i + b))) + ½ (1/C) ‖w‖² (b not penalized), gtol = tol = 1e-4; the best C
 * maximizes the mean fold accuracy (first on ties); refit on all rows from the fold-averaged coefficients.
 */
/** `numpy.logspace(-4, 4, 10)` as numpy prints it (V8's ** differs from libm's pow by an ulp on one value). */
export const LOGISTIC_CS: readonly number[] = [
  0.0001, 0.000774263682681127, 0.005994842503189409, 0.046415888336127774, 0.3593813663804626, 2.782559402207126,
  21.54434690031882, 166.81005372000558, 1291.5496650148827, 10000.0,
];
export const LOGISTIC_FOLDS = 5;
export const LOGISTIC_TOL = 1e-4;
export const LOGISTIC_MAX_ITER = 10000;

export interface LogisticModel {
  /** Feature weights (length P) and intercept. */
  w: Float64Array;
  b: number;
  C: number;
  /** Mean fold accuracy per C in LOGISTIC_CS. */
  cvScores: number[];
  folds: Int32Array;
  shift: number;
  warnings: string[];
}

function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/** Σ log(1 + exp(−y·z)) + ½α‖w‖² and its gradient; x = [w; b]. X rows are samples, y ∈ {−1, +1}. */
function objective(X: Mat, y: Float64Array, alpha: number) {
  const p = X.cols;
  const data = X.data;
  return (x: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    const b = x[p];
    for (let i = 0; i < X.rows; i++) {
      const off = i * p;
      // z = x_i·w + b with four partial sums (the loop is the solver's hot spot)
      let z0 = 0;
      let z1 = 0;
      let z2 = 0;
      let z3 = 0;
      let j = 0;
      for (; j + 3 < p; j += 4) {
        z0 += data[off + j] * x[j];
        z1 += data[off + j + 1] * x[j + 1];
        z2 += data[off + j + 2] * x[j + 2];
        z3 += data[off + j + 3] * x[j + 3];
      }
      for (; j < p; j++) z0 += data[off + j] * x[j];
      const z = b + (z0 + z1 + (z2 + z3));
      const yz = y[i] * z;
      loss += softplus(-yz);
      // d/dz log(1 + exp(−y z)) = −y·σ(−y z)
      const s = -y[i] / (1 + Math.exp(yz));
      for (let k = 0; k < p; k++) grad[k] += s * data[off + k];
      grad[p] += s;
    }
    let ww = 0;
    for (let j = 0; j < p; j++) {
      ww += x[j] * x[j];
      grad[j] += alpha * x[j];
    }
    return loss + 0.5 * alpha * ww;
  };
}

function rowsOf(X: Mat, idx: number[]): Mat {
  const out = mat(idx.length, X.cols);
  for (let k = 0; k < idx.length; k++)
    out.data.set(X.data.subarray(idx[k] * X.cols, (idx[k] + 1) * X.cols), k * X.cols);
  return out;
}

function decision(X: Mat, w: Float64Array, b: number, row: number): number {
  let z = b;
  const off = row * X.cols;
  for (let j = 0; j < X.cols; j++) z += X.data[off + j] * w[j];
  return z;
}

/** Fit an L2 logistic regression (targets 0/1) with lbfgs from `init` ([w; b]). */
export function fitBinaryLogistic(X: Mat, y01: ArrayLike<number>, C: number, init?: Float64Array) {
  const y = Float64Array.from(y01, (v) => (v === 1 ? 1 : -1));
  const x0 = init ?? new Float64Array(X.cols + 1);
  return lbfgs(objective(X, y, 1 / C), x0, { gtol: LOGISTIC_TOL, maxIter: LOGISTIC_MAX_ITER });
}

export function logisticFit(train: FitInput, hyper: Pick<SolverHyper, "reg">): LogisticModel {
  if (train.f0) throw new Error("the logistic solver does not support --adjust-for-init (f0)");
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
  const nC = LOGISTIC_CS.length;
  const scoreSum = new Array<number>(nC).fill(0);
  const coefs: Float64Array[][] = [];
  for (let f = 0; f < LOGISTIC_FOLDS; f++) {
    const tr: number[] = [];
    const te: number[] = [];
    for (let i = 0; i < folds.length; i++) (folds[i] === f ? te : tr).push(i);
    const Xtr = rowsOf(X, tr);
    const ytr = tr.map((i) => y01[i]);
    const path: Float64Array[] = [];
    let w0: Float64Array | undefined;
    LOGISTIC_CS.forEach((C, ci) => {
      const res = fitBinaryLogistic(Xtr, ytr, C, w0);
      if (!res.converged) warnings.push(`lbfgs did not converge (fold ${f}, C = ${C.toExponential(3)})`);
      w0 = res.x;
      path.push(res.x);
      let hit = 0;
      for (const i of te) {
        const pred = decision(X, res.x, res.x[X.cols], i) > 0 ? 1 : 0;
        if (pred === y01[i]) hit++;
      }
      scoreSum[ci] += hit / te.length;
    });
    coefs.push(path);
  }
  let best = 0;
  for (let ci = 1; ci < nC; ci++) if (scoreSum[ci] > scoreSum[best]) best = ci;
  const init = new Float64Array(X.cols + 1);
  for (const path of coefs) for (let j = 0; j <= X.cols; j++) init[j] += path[best][j] / LOGISTIC_FOLDS;
  const res = fitBinaryLogistic(X, y01, LOGISTIC_CS[best], init);
  if (!res.converged) warnings.push(`lbfgs did not converge on the refit (C = ${LOGISTIC_CS[best].toExponential(3)})`);
  return {
    w: res.x.slice(0, X.cols),
    b: res.x[X.cols],
    C: LOGISTIC_CS[best],
    cvScores: scoreSum.map((s) => s / LOGISTIC_FOLDS),
    folds,
    shift,
    warnings,
  };
}

/** The log-odds log p1 − log p0 = w·x + b of each eval column x = K_e[:, q]. */
export function logisticPredict(model: LogisticModel, input: PredictInput): Float64Array {
  if (input.f0) throw new Error("the logistic solver does not support --adjust-for-init (f0)");
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
  describe: (m) => ({ C: m.C, cv_scores: m.cvScores, reg_shift: m.shift, warnings: m.warnings }),
};
