/**
 * The linear probe (docs/protocol.md §7.3): scikit-learn 0.24 `LogisticRegressionCV(max_iter=5000,
 * multi_class="multinomial", random_state=0)` on frozen features. Softmax regression over K classes,
 *   L(W, b) = Σ_i [logsumexp(W x_i + b) − (W x_i + b)_{y_i}] + ½ (1/C) ‖W‖²_F   (b not penalized),
 * minimized with lbfgs (gtol = tol = 1e-4, at most 5000 iterations). Cs = logspace(−4, 4, 10); 5-fold
 * StratifiedKFold without shuffling; on each fold a warm-started path over the Cs (each C starts from the previous
 * solution); the best C maximizes the mean fold accuracy (first on ties); refit on all rows starting from the
 * fold-averaged coefficients. Binary problems are fitted as two-class softmax too (as sklearn does); sklearn then
 * reports row 1 of W as `coef_` (`binaryCoef`), which for a solution started at zero is −row 0.
 */
import { lbfgs } from "./lbfgs.ts";
import { LOGISTIC_CS, LOGISTIC_FOLDS } from "./logistic.ts";

/** scikit-learn's default tol, the lbfgs gradient tolerance of LogisticRegressionCV. */
const LOGISTIC_TOL = 1e-4;

import { minClassCount, stratifiedTestFolds } from "./stratified-kfold.ts";

/** The probe's iteration cap (the reference's `max_iter=5000`). */
export const PROBE_MAX_ITER = 5000;

export interface MultinomialModel {
  /** Number of classes and features. */
  K: number;
  d: number;
  /** Coefficients [K, d] row-major and intercepts [K]. */
  W: Float64Array;
  b: Float64Array;
  /** The chosen inverse regularization strength. */
  C: number;
  /** Mean fold accuracy per C in LOGISTIC_CS. */
  cvScores: number[];
  warnings: string[];
}

/** The softmax objective and its gradient; x = [W (K·d); b (K)]. X: n rows of d features, y: class indices. */
export function multinomialObjective(
  X: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  K: number,
  alpha: number,
) {
  const z = new Float64Array(K);
  return (x: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    const bOff = K * d;
    for (let i = 0; i < n; i++) {
      const row = i * d;
      let m = -Infinity;
      for (let k = 0; k < K; k++) {
        let s = x[bOff + k];
        const w = k * d;
        for (let j = 0; j < d; j++) s += x[w + j] * X[row + j];
        z[k] = s;
        if (s > m) m = s;
      }
      let se = 0;
      for (let k = 0; k < K; k++) se += Math.exp(z[k] - m);
      const lse = m + Math.log(se);
      loss += lse - z[y[i]];
      for (let k = 0; k < K; k++) {
        // ∂/∂z_k = softmax_k − [k = y_i]
        const r = Math.exp(z[k] - lse) - (k === y[i] ? 1 : 0);
        const w = k * d;
        for (let j = 0; j < d; j++) grad[w + j] += r * X[row + j];
        grad[bOff + k] += r;
      }
    }
    let ww = 0;
    for (let j = 0; j < K * d; j++) {
      ww += x[j] * x[j];
      grad[j] += alpha * x[j];
    }
    return loss + 0.5 * alpha * ww;
  };
}

/** Fit the softmax regression at one C with lbfgs from `init` ([W; b], default zeros). */
export function fitMultinomial(
  X: Float64Array,
  y: ArrayLike<number>,
  d: number,
  K: number,
  C: number,
  init?: Float64Array,
  maxIter = PROBE_MAX_ITER,
) {
  const n = y.length;
  if (X.length !== n * d) throw new Error(`multinomial: ${X.length} feature values for ${n} rows of ${d}`);
  const x0 = init ?? new Float64Array(K * d + K);
  return lbfgs(multinomialObjective(X, y, n, d, K, 1 / C), x0, { gtol: LOGISTIC_TOL, maxIter });
}

/** Class scores W x + b of row `i` of X, argmax (first on ties). */
function predictRow(X: Float64Array, i: number, d: number, K: number, x: Float64Array): number {
  let best = 0;
  let bestZ = -Infinity;
  for (let k = 0; k < K; k++) {
    let s = x[K * d + k];
    for (let j = 0; j < d; j++) s += x[k * d + j] * X[i * d + j];
    if (s > bestZ) {
      bestZ = s;
      best = k;
    }
  }
  return best;
}

function rows(X: Float64Array, idx: number[], d: number): Float64Array {
  const out = new Float64Array(idx.length * d);
  idx.forEach((i, k) => {
    out.set(X.subarray(i * d, (i + 1) * d), k * d);
  });
  return out;
}

/**
 * `LogisticRegressionCV(multi_class="multinomial")` on features X ([n, d] row-major, float64) with class indices y
 * in [0, K). Every class must occur (K ≥ 2).
 */
export function probeFit(X: Float64Array, y: ArrayLike<number>, K: number): MultinomialModel {
  const n = y.length;
  if (n === 0) throw new Error("probe: no training examples");
  const d = X.length / n;
  if (!Number.isInteger(d)) throw new Error(`probe: ${X.length} feature values do not split into ${n} rows`);
  if (K < 2) throw new Error(`probe: needs at least 2 classes, got ${K}`);
  const present = new Set(Array.from(y));
  for (let k = 0; k < K; k++)
    if (!present.has(k)) throw new Error(`probe: class ${k} has no training example (needs all ${K} classes)`);
  const warnings: string[] = [];
  if (minClassCount(y) < LOGISTIC_FOLDS)
    warnings.push(
      `the least populated class has fewer than ${LOGISTIC_FOLDS} members (stratified CV, as sklearn warns)`,
    );
  const folds = stratifiedTestFolds(y, LOGISTIC_FOLDS);
  const scoreSum = new Array<number>(LOGISTIC_CS.length).fill(0);
  const paths: Float64Array[][] = [];
  for (let f = 0; f < LOGISTIC_FOLDS; f++) {
    const tr: number[] = [];
    const te: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === f ? te : tr).push(i);
    const Xtr = rows(X, tr, d);
    const ytr = tr.map((i) => y[i]);
    const path: Float64Array[] = [];
    let w0: Float64Array | undefined;
    LOGISTIC_CS.forEach((C, ci) => {
      const res = fitMultinomial(Xtr, ytr, d, K, C, w0);
      if (!res.converged) warnings.push(`lbfgs did not converge (fold ${f}, C = ${C.toExponential(3)})`);
      w0 = res.x;
      path.push(res.x);
      let hit = 0;
      for (const i of te) if (predictRow(X, i, d, K, res.x) === y[i]) hit++;
      scoreSum[ci] += hit / te.length;
    });
    paths.push(path);
  }
  let best = 0;
  for (let ci = 1; ci < LOGISTIC_CS.length; ci++) if (scoreSum[ci] > scoreSum[best]) best = ci;
  const init = new Float64Array(K * d + K);
  for (const path of paths) for (let j = 0; j < init.length; j++) init[j] += path[best][j] / LOGISTIC_FOLDS;
  const res = fitMultinomial(X, y, d, K, LOGISTIC_CS[best], init);
  if (!res.converged) warnings.push(`lbfgs did not converge on the refit (C = ${LOGISTIC_CS[best].toExponential(3)})`);
  return {
    K,
    d,
    W: res.x.slice(0, K * d),
    b: res.x.slice(K * d),
    C: LOGISTIC_CS[best],
    cvScores: scoreSum.map((s) => s / LOGISTIC_FOLDS),
    warnings,
  };
}

/** Class scores W x + b for every row of X ([n, d]): [n, K] row-major. */
export function probeScores(m: MultinomialModel, X: Float64Array): Float64Array {
  const n = X.length / m.d;
  const out = new Float64Array(n * m.K);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < m.K; k++) {
      let s = m.b[k];
      for (let j = 0; j < m.d; j++) s += m.W[k * m.d + j] * X[i * m.d + j];
      out[i * m.K + k] = s;
    }
  return out;
}

/**
 * The classifier rows the reference writes from a probe (docs/protocol.md §7.3): multi-class, W and b as they are;
 * binary, sklearn's single coefficient row w (= row 1) and intercept b₁ become rows [−w/2, +w/2] and [−b₁/2, +b₁/2].
 */
export function probeClassifier(m: MultinomialModel): { weight: Float32Array; bias: Float32Array } {
  if (m.K !== 2) return { weight: Float32Array.from(m.W), bias: Float32Array.from(m.b) };
  const w = m.W.subarray(m.d, 2 * m.d);
  const weight = new Float32Array(2 * m.d);
  for (let j = 0; j < m.d; j++) {
    weight[j] = -w[j] / 2;
    weight[m.d + j] = w[j] / 2;
  }
  return { weight, bias: Float32Array.of(-m.b[1] / 2, m.b[1] / 2) };
}
