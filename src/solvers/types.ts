import type { PreparedSquare } from "./lstsq-core.ts";
import type { Mat } from "./matrix.ts";

/** Hyperparameters shared by the solvers (docs/protocol.md §6 defaults: reg 0, γ 1; λ is entk's, see asym.ts). */
export interface SolverHyper {
  /** Regularization r: K ← K + r·σ_max(K)·I. */
  reg: number;
  /** asym only: the 1/γ on the diagonal blocks of its 2N system. */
  gamma: number;
  /** asym only: prediction λ·ω + (1 − λ)·ν. */
  lambda: number;
}

export const DEFAULT_HYPER: SolverHyper = { reg: 0, gamma: 1, lambda: 0.5 };

/** Training data as the solvers see it: the reshaped P×P train kernel, targets of length P, optional f0/s. */
export interface FitInput {
  K: Mat;
  y: Float64Array;
  /** Initial outputs already divided by f0_scaling; the solver fits y − f0 and adds f0 back. */
  f0?: Float64Array;
  /** Optional cache of K's decomposition (reused across a regularization grid); must wrap this same K. */
  prepared?: PreparedSquare;
}

/** Evaluation data: the P×Q train→eval kernel (and the flipped one for asym), optional f0/s of length Q. */
export interface PredictInput {
  K: Mat;
  Kflipped?: Mat;
  f0?: Float64Array;
}

/** A scikit-learn-style estimator: `fit` returns a plain model object, `predict` is a pure function of it. */
export interface KernelSolver<M> {
  name: SolverName;
  /** Whether `adjustForInit` (f0) is allowed; the reference allows it for lstsq, asym and svr only. */
  acceptsF0: boolean;
  fit(train: FitInput, hyper: SolverHyper): M;
  /** Outputs of length Q (one per flattened (example, class) column). */
  predict(model: M, input: PredictInput): Float64Array;
  /** Diagnostics to record with the result (rank, chosen C, iterations, warnings). */
  describe(model: M): Record<string, unknown>;
}

export type SolverName = "lstsq" | "logistic" | "svc" | "svr" | "asym";
export const SOLVER_NAMES: readonly SolverName[] = ["lstsq", "logistic", "svc", "svr", "asym"];
