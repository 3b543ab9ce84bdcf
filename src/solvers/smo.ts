/**
 * libsvm's `Solver` (Fan, Chen & Lin 2005) for min ½αᵀQα + pᵀα s.t. yᵀα = 0, 0 ≤ α_i ≤ C, y_i = ±1: second-order
 * working-set selection (WSS3), the analytic two-variable update with clipping, stopping when the maximal
 * violation m(α) − M(α) < eps, and ρ as `calculate_rho` computes it. No shrinking (libsvm's optional heuristic);
 * Q is kept in float64 (libsvm caches float32 rows).
 */
export interface SmoProblem {
  l: number;
  /** Row i of Q (length l); called repeatedly, so it should be cheap or cached by the caller. */
  q: (i: number) => Float64Array;
  /** Diagonal of Q. */
  qd: Float64Array;
  p: Float64Array;
  y: Int8Array;
  C: number;
  eps?: number;
  maxIter?: number;
}

export interface SmoResult {
  alpha: Float64Array;
  rho: number;
  iterations: number;
  /** Objective value ½αᵀQα + pᵀα. */
  obj: number;
}

const TAU = 1e-12;

export function smo(prob: SmoProblem): SmoResult {
  const { l, q, qd, p, y, C } = prob;
  const eps = prob.eps ?? 1e-3;
  const maxIter = prob.maxIter ?? Math.max(10_000_000, l > 21_474_836 ? 2 ** 31 - 1 : 100 * l);
  const alpha = new Float64Array(l);
  const G = Float64Array.from(p);
  const isUpper = (i: number) => alpha[i] >= C;
  const isLower = (i: number) => alpha[i] <= 0;
  let iter = 0;
  while (iter < maxIter) {
    // select_working_set (WSS3)
    let Gmax = Number.NEGATIVE_INFINITY;
    let Gmax2 = Number.NEGATIVE_INFINITY;
    let i = -1;
    for (let t = 0; t < l; t++) {
      if (y[t] === 1) {
        if (!isUpper(t) && -G[t] >= Gmax) {
          Gmax = -G[t];
          i = t;
        }
      } else if (!isLower(t) && G[t] >= Gmax) {
        Gmax = G[t];
        i = t;
      }
    }
    let j = -1;
    let objDiffMin = Number.POSITIVE_INFINITY;
    const Qi = i !== -1 ? q(i) : undefined;
    for (let t = 0; t < l; t++) {
      if (y[t] === 1) {
        if (!isLower(t)) {
          const gradDiff = Gmax + G[t];
          if (G[t] >= Gmax2) Gmax2 = G[t];
          if (gradDiff > 0) {
            const quad = qd[i] + qd[t] - 2 * y[i] * Qi![t];
            const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
            if (objDiff <= objDiffMin) {
              j = t;
              objDiffMin = objDiff;
            }
          }
        }
      } else if (!isUpper(t)) {
        const gradDiff = Gmax - G[t];
        if (-G[t] >= Gmax2) Gmax2 = -G[t];
        if (gradDiff > 0) {
          const quad = qd[i] + qd[t] + 2 * y[i] * Qi![t];
          const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
          if (objDiff <= objDiffMin) {
            j = t;
            objDiffMin = objDiff;
          }
        }
      }
    }
    if (Gmax + Gmax2 < eps || j === -1) break;
    iter++;
    const Qj = q(j);
    const oldAi = alpha[i];
    const oldAj = alpha[j];
    if (y[i] !== y[j]) {
      let quad = qd[i] + qd[j] + 2 * Qi![j];
      if (quad <= 0) quad = TAU;
      const delta = (-G[i] - G[j]) / quad;
      const diff = alpha[i] - alpha[j];
      alpha[i] += delta;
      alpha[j] += delta;
      if (diff > 0) {
        if (alpha[j] < 0) {
          alpha[j] = 0;
          alpha[i] = diff;
        }
      } else if (alpha[i] < 0) {
        alpha[i] = 0;
        alpha[j] = -diff;
      }
      if (diff > 0) {
        // diff > C_i − C_j = 0
        if (alpha[i] > C) {
          alpha[i] = C;
          alpha[j] = C - diff;
        }
      } else if (alpha[j] > C) {
        alpha[j] = C;
        alpha[i] = C + diff;
      }
    } else {
      let quad = qd[i] + qd[j] - 2 * Qi![j];
      if (quad <= 0) quad = TAU;
      const delta = (G[i] - G[j]) / quad;
      const sum = alpha[i] + alpha[j];
      alpha[i] -= delta;
      alpha[j] += delta;
      if (sum > C) {
        if (alpha[i] > C) {
          alpha[i] = C;
          alpha[j] = sum - C;
        }
      } else if (alpha[j] < 0) {
        alpha[j] = 0;
        alpha[i] = sum;
      }
      if (sum > C) {
        if (alpha[j] > C) {
          alpha[j] = C;
          alpha[i] = sum - C;
        }
      } else if (alpha[i] < 0) {
        alpha[i] = 0;
        alpha[j] = sum;
      }
    }
    const dAi = alpha[i] - oldAi;
    const dAj = alpha[j] - oldAj;
    for (let k = 0; k < l; k++) G[k] += Qi![k] * dAi + Qj[k] * dAj;
  }
  // calculate_rho
  let nFree = 0;
  let sumFree = 0;
  let ub = Number.POSITIVE_INFINITY;
  let lb = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < l; t++) {
    const yG = y[t] * G[t];
    if (isUpper(t)) {
      if (y[t] === -1) ub = Math.min(ub, yG);
      else lb = Math.max(lb, yG);
    } else if (isLower(t)) {
      if (y[t] === 1) ub = Math.min(ub, yG);
      else lb = Math.max(lb, yG);
    } else {
      nFree++;
      sumFree += yG;
    }
  }
  const rho = nFree > 0 ? sumFree / nFree : (ub + lb) / 2;
  let obj = 0;
  for (let t = 0; t < l; t++) obj += alpha[t] * (G[t] + p[t]);
  return { alpha, rho, iterations: iter, obj: obj / 2 };
}
