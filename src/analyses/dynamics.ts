/**
 * Kernel-predicted training dynamics of the linearized model (docs/linearization.md §Dynamics). Full-batch
 * gradient descent with learning rate η on the mean loss L = (1/n) Σᵢ ℓ(f(xᵢ), yᵢ) moves the linearized outputs
 * by f ← f − (η/n) K r, r = ∂ℓ/∂f the residual, K the train–train eNTK; eval outputs move by K_eX r.
 * - MSE (ℓ = ½‖f − y‖², r = f − y): gradient flow has the closed form (one eigendecomposition K = V Λ Vᵀ)
 *   f_train(t) = y + V e^{−ηΛt/n} Vᵀ (f₀ − y),
 *   f_eval(t)  = f₀,eval − K_eX V diag((1 − e^{−ηλt/n})/λ) Vᵀ (f₀ − y)   ((1 − e^{−ηλt/n})/λ → ηt/n as λ → 0).
 * - Cross-entropy (r = softmax(f) − onehot(y); binary f = z₁ − z₀: r = σ(f) − y): discrete full-batch steps,
 *   exactly the updates SGD takes on the linearized model.
 * A learning-rate schedule η_s (step s = steps already taken) enters the flow as the time Σ_{s<t} η_s and the
 * discrete steps as their own η_s (entk finetune decays η linearly to 0: `linearSchedule`).
 * Outputs are flattened example-major, [n·C] (row i·C + c), as in the kernel directory's solver layout.
 */
import { symEig } from "../solvers/eigen.ts";
import { type Mat, matTVec, matVec } from "../solvers/matrix.ts";

export type DynamicsLoss = "mse" | "ce";
/** A constant learning rate, or η_s for step s (0-based: the number of steps already taken). */
export type LrSchedule = number | ((step: number) => number);

const lrAt = (lr: LrSchedule, s: number) => (typeof lr === "number" ? lr : lr(s));

/** entk finetune's schedule without warmup: η·(N − s)/N (training/schedule.ts). */
export function linearSchedule(lr: number, steps: number): (step: number) => number {
  return (s) => (lr * Math.max(0, steps - s)) / Math.max(1, steps);
}
export const DYNAMICS_LOSSES: readonly DynamicsLoss[] = ["mse", "ce"];

export interface LinearDynamicsProblem {
  /** Train–train kernel, (n·C)×(n·C), symmetric. */
  Ktrain: Mat;
  /** Initial train outputs f₀ [n·C]. */
  f0: Float64Array;
  /** Eval splits: the train→eval kernel (n·C)×(m·C) (train rows, the kernel directory's layout) and f₀ [m·C]. */
  evals: Record<string, { K: Mat; f0: Float64Array }>;
  /** Train labels (class indices). */
  labels: Int32Array;
  /** Outputs per example: 1 in binary mode (f = z₁ − z₀), else the number of classes. */
  C: number;
}

/** Outputs at each requested step, by split ("train" and each eval split), each [n·C]. */
export type Trajectory = Record<string, Float64Array[]>;

/** MSE targets: one-hot (multi-class) or 2·label − 1 ∈ {−1, +1} (binary, as `entk solve`'s regression targets). */
export function mseTargets(labels: Int32Array, C: number): Float64Array {
  if (C === 1) return Float64Array.from(labels, (l) => 2 * l - 1);
  const y = new Float64Array(labels.length * C);
  labels.forEach((l, i) => {
    y[i * C + l] = 1;
  });
  return y;
}

function checkSteps(steps: number[]): void {
  steps.forEach((s, i) => {
    if (!(Number.isInteger(s) && s >= 0) || (i > 0 && s <= steps[i - 1]))
      throw new Error(`dynamics: steps must be increasing integers ≥ 0, got ${steps.join(", ")}`);
  });
}

function checkProblem(p: LinearDynamicsProblem): number {
  const N = p.Ktrain.rows;
  if (p.Ktrain.cols !== N || p.f0.length !== N || p.labels.length * p.C !== N)
    throw new Error(
      `dynamics: train kernel ${p.Ktrain.rows}×${p.Ktrain.cols}, f₀ of ${p.f0.length} and ${p.labels.length} labels × C = ${p.C} disagree`,
    );
  for (const [name, e] of Object.entries(p.evals))
    if (e.K.rows !== N || e.K.cols !== e.f0.length)
      throw new Error(
        `dynamics: ${name} kernel ${e.K.rows}×${e.K.cols} does not match ${N} train outputs and f₀ of ${e.f0.length}`,
      );
  return N;
}

/** Closed-form MSE gradient flow at time Σ_{s<t} η_s for each requested step t. */
export function mseDynamics(p: LinearDynamicsProblem, lr: LrSchedule, steps: number[]): Trajectory {
  checkSteps(steps);
  const N = checkProblem(p);
  const n = p.labels.length;
  const y = mseTargets(p.labels, p.C);
  const { values, vectors } = symEig(p.Ktrain);
  const V = vectors!;
  // c_k = v_kᵀ (f₀ − y)
  const c = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += V[k * N + j] * (p.f0[j] - y[j]);
    c[k] = s;
  }
  const out: Trajectory = { train: [] };
  for (const name of Object.keys(p.evals)) out[name] = [];
  let time = 0;
  let done = 0;
  for (const t of steps) {
    for (; done < t; done++) time += lrAt(lr, done);
    const decay = new Float64Array(N); // Σ_k e^{−ηλt/n} c_k v_k
    const grow = new Float64Array(N); // Σ_k (1 − e^{−ηλt/n})/λ · c_k v_k
    for (let k = 0; k < N; k++) {
      const x = (values[k] * time) / n;
      const e = Math.exp(-x);
      const g = Math.abs(x) < 1e-12 ? time / n : -Math.expm1(-x) / values[k];
      for (let j = 0; j < N; j++) {
        decay[j] += e * c[k] * V[k * N + j];
        grow[j] += g * c[k] * V[k * N + j];
      }
    }
    out.train.push(y.map((v, j) => v + decay[j]));
    for (const [name, e] of Object.entries(p.evals)) {
      const d = matTVec(e.K, grow);
      out[name].push(e.f0.map((v, j) => v - d[j]));
    }
  }
  return out;
}

/** ∂ℓ/∂f of the cross-entropy for every train example: softmax(f) − onehot (C ≥ 2) or σ(f) − label (C = 1). */
export function ceResidual(f: Float64Array, labels: Int32Array, C: number): Float64Array {
  const r = new Float64Array(f.length);
  labels.forEach((l, i) => {
    if (C === 1) {
      r[i] = 1 / (1 + Math.exp(-f[i])) - l;
      return;
    }
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, f[i * C + c]);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(f[i * C + c] - m);
    for (let c = 0; c < C; c++) r[i * C + c] = Math.exp(f[i * C + c] - m) / z - (c === l ? 1 : 0);
  });
  return r;
}

/**
 * Discrete full-batch steps f ← f − (η/n) K r(f) with a residual `residual(f_train)`, recording the outputs at the
 * requested steps (the cross-entropy dynamics; with the MSE residual f − y, the discrete counterpart of the flow).
 */
export function discreteDynamics(
  p: LinearDynamicsProblem,
  lr: LrSchedule,
  steps: number[],
  residual: (f: Float64Array) => Float64Array,
): Trajectory {
  checkSteps(steps);
  checkProblem(p);
  const n = p.labels.length;
  const f = Float64Array.from(p.f0);
  const ev = Object.fromEntries(Object.entries(p.evals).map(([k, e]) => [k, Float64Array.from(e.f0)]));
  const out: Trajectory = { train: [] };
  for (const name of Object.keys(p.evals)) out[name] = [];
  let done = 0;
  for (const t of steps) {
    for (; done < t; done++) {
      const eta = lrAt(lr, done);
      const r = residual(f);
      const dTrain = matVec(p.Ktrain, r); // K symmetric
      for (const [name, e] of Object.entries(p.evals)) {
        const d = matTVec(e.K, r);
        const fe = ev[name];
        for (let j = 0; j < fe.length; j++) fe[j] -= (eta / n) * d[j];
      }
      for (let j = 0; j < f.length; j++) f[j] -= (eta / n) * dTrain[j];
    }
    out.train.push(f.slice());
    for (const name of Object.keys(p.evals)) out[name].push(ev[name].slice());
  }
  return out;
}

/** The dynamics for a loss: MSE in closed form, cross-entropy by discrete steps. */
export function predictDynamics(
  p: LinearDynamicsProblem,
  loss: DynamicsLoss,
  lr: LrSchedule,
  steps: number[],
): Trajectory {
  return loss === "mse"
    ? mseDynamics(p, lr, steps)
    : discreteDynamics(p, lr, steps, (f) => ceResidual(f, p.labels, p.C));
}
