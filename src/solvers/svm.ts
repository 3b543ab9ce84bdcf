import { OptionError } from "../util/errors.ts";
import { addF0, residualTargets } from "./lstsq.ts";
import { PreparedSquare } from "./lstsq-core.ts";
import { type Mat, matTVec } from "./matrix.ts";
import { addDiagonal, regularizationShift } from "./regularization.ts";
import { smo } from "./smo.ts";
import { binaryClassTargets } from "./targets.ts";
import type { FitInput, KernelSolver, PredictInput, SolverHyper } from "./types.ts";

/** libsvm / scikit-learn defaults the reference uses: `SVC(kernel='precomputed')`, `SVR(kernel='precomputed')`. */
export const SVM_C = 1;
export const SVR_EPSILON = 0.1;
export const SVM_TOL = 1e-3;

export interface SvmModel {
  /** Dual coefficients in decision f(x) = Σ_p coef_p K[p, x] − ρ (sklearn's sign convention: > 0 ↔ class 1). */
  coef: Float64Array;
  rho: number;
  iterations: number;
  nSupport: number;
  shift: number;
}

function rowCache(l: number, row: (i: number) => Float64Array): (i: number) => Float64Array {
  const cache = new Map<number, Float64Array>();
  return (i) => {
    if (i < 0 || i >= l) throw new Error(`smo: row index ${i} out of range [0, ${l})`);
    let r = cache.get(i);
    if (!r) cache.set(i, (r = row(i)));
    return r;
  };
}

function regularized(train: FitInput, reg: number): { K: Mat; shift: number } {
  const prep = train.prepared ?? new PreparedSquare(train.K);
  const shift = regularizationShift(prep, reg);
  return { K: addDiagonal(train.K, shift), shift };
}

/** C-SVC (libsvm `solve_c_svc`) on 0/1 targets trunc((t + 1)/2). libsvm's first label (class 0) is its +1. */
export function svcFit(train: FitInput, hyper: Pick<SolverHyper, "reg">): SvmModel {
  if (train.f0)
    throw new OptionError(
      "adjustForInit",
      (n) => `the svc solver does not support ${n("adjustForInit")} (f0), as in the reference`,
    );
  const { K, shift } = regularized(train, hyper.reg);
  const y01 = binaryClassTargets(train.y);
  const l = y01.length;
  if (!(y01.includes(0) && y01.includes(1)))
    throw new Error("svc: the targets must contain both classes 0 and 1 (libsvm needs two classes)");
  const y = Int8Array.from(y01, (c) => (c === 0 ? 1 : -1));
  const row = (i: number) => {
    const r = new Float64Array(l);
    for (let j = 0; j < l; j++) r[j] = y[i] * y[j] * K.data[i * l + j];
    return r;
  };
  const qd = Float64Array.from({ length: l }, (_, i) => K.data[i * l + i]);
  const res = smo({ l, q: rowCache(l, row), qd, p: new Float64Array(l).fill(-1), y, C: SVM_C, eps: SVM_TOL });
  // libsvm decision (class 0 positive) is Σ y_i α_i K − ρ; sklearn negates it so that > 0 means class 1.
  const coef = Float64Array.from(res.alpha, (a, i) => -y[i] * a);
  return { coef, rho: -res.rho, iterations: res.iterations, nSupport: countSupport(res.alpha), shift };
}

/** ε-SVR (libsvm `solve_epsilon_svr`, 2l variables) on y − f0, C = 1, ε = 0.1. */
export function svrFit(train: FitInput, hyper: Pick<SolverHyper, "reg">): SvmModel {
  const { K, shift } = regularized(train, hyper.reg);
  const t = residualTargets(train);
  const l = t.length;
  const sign = (k: number) => (k < l ? 1 : -1);
  const row = (i: number) => {
    const r = new Float64Array(2 * l);
    const si = sign(i);
    const off = (i % l) * l;
    for (let j = 0; j < l; j++) {
      const v = si * K.data[off + j];
      r[j] = v;
      r[j + l] = -v;
    }
    return r;
  };
  const qd = Float64Array.from({ length: 2 * l }, (_, k) => K.data[(k % l) * l + (k % l)]);
  const p = Float64Array.from({ length: 2 * l }, (_, k) => (k < l ? SVR_EPSILON - t[k] : SVR_EPSILON + t[k - l]));
  const y = Int8Array.from({ length: 2 * l }, (_, k) => sign(k));
  const res = smo({ l: 2 * l, q: rowCache(2 * l, row), qd, p, y, C: SVM_C, eps: SVM_TOL });
  const coef = Float64Array.from({ length: l }, (_, i) => res.alpha[i] - res.alpha[i + l]);
  return { coef, rho: res.rho, iterations: res.iterations, nSupport: countSupport(coef), shift };
}

function countSupport(a: Float64Array): number {
  let n = 0;
  for (const v of a) if (v !== 0) n++;
  return n;
}

/** Decision values Σ_p coef_p K_e[p, q] − ρ. */
export function svmDecision(model: SvmModel, K: Mat): Float64Array {
  if (K.rows !== model.coef.length)
    throw new Error(`predict: eval kernel has ${K.rows} train rows, model has ${model.coef.length}`);
  return matTVec(K, model.coef).map((v) => v - model.rho);
}

/** SVC predictions mapped to ±1 like the reference (libsvm: class 0 iff its decision > 0, i.e. ours < 0). */
export function svcPredict(model: SvmModel, input: PredictInput): Float64Array {
  if (input.f0)
    throw new OptionError(
      "adjustForInit",
      (n) => `the svc solver does not support ${n("adjustForInit")} (f0), as in the reference`,
    );
  return svmDecision(model, input.K).map((d) => (d < 0 ? -1 : 1));
}

export function svrPredict(model: SvmModel, input: PredictInput): Float64Array {
  return addF0(svmDecision(model, input.K), input.f0);
}

const describe = (m: SvmModel) => ({ rho: m.rho, iterations: m.iterations, n_support: m.nSupport, reg_shift: m.shift });

export const svcSolver: KernelSolver<SvmModel> = {
  name: "svc",
  acceptsF0: false,
  fit: svcFit,
  predict: svcPredict,
  describe,
};

export const svrSolver: KernelSolver<SvmModel> = {
  name: "svr",
  acceptsF0: true,
  fit: svrFit,
  predict: svrPredict,
  describe,
};
