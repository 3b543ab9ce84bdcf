import { addF0, residualTargets } from "./lstsq.ts";
import { PreparedSquare } from "./lstsq-core.ts";
import { mat, matTVec } from "./matrix.ts";
import { regularizationShift } from "./regularization.ts";
import type { FitInput, KernelSolver, PredictInput, SolverHyper } from "./types.ts";

/**
 * The asymmetric solver for A-SignGD kernels (docs/protocol.md §6 "asym"; AsymLS-SVM without biases, He et al. 2022).
 *
 * λ: the reference reads `kernel_lambda` but never declares it, so it crashes. entk declares `--lambda`, default
 * 0.5: the equal-weight average of the two dual predictors, the only value that favours neither side of the
 * asymmetric kernel (ω uses the sign-on-train kernel, ν the sign-on-eval one). For a symmetric kernel the 2N system
 * forces α = β, so ω = ν and every λ gives the same prediction — the solver then reduces to bias-free kernel
 * ridge regression with ridge 1/γ, whatever λ is.
 */
export interface AsymModel {
  alpha: Float64Array;
  beta: Float64Array;
  /** The targets Y used in H = diag(Y)·K·diag(Y) (y − f0 when adjusting for init). */
  Y: Float64Array;
  lambda: number;
  rank: number;
  shift: number;
  warnings: string[];
}

/** Solve [[I/γ, H], [Hᵀ, I/γ]]·[α; β] = 1 by minimum-norm least squares, H = diag(Y)·(K + r·σ_max·I)·diag(Y). */
export function asymFit(train: FitInput, hyper: SolverHyper): AsymModel {
  const { K } = train;
  const N = K.rows;
  if (K.cols !== N) throw new Error(`asym: train kernel must be square, got ${K.rows}×${K.cols}`);
  if (!(hyper.gamma > 0) || !Number.isFinite(hyper.gamma))
    throw new Error(`asym: gamma must be > 0, got ${hyper.gamma}`);
  if (!Number.isFinite(hyper.lambda)) throw new Error(`asym: lambda must be a finite number, got ${hyper.lambda}`);
  const prep = train.prepared ?? new PreparedSquare(K);
  const shift = regularizationShift(prep, hyper.reg);
  const Y = residualTargets(train);
  const A = mat(2 * N, 2 * N);
  const w = 2 * N;
  for (let i = 0; i < N; i++) {
    A.data[i * w + i] = 1 / hyper.gamma;
    A.data[(N + i) * w + N + i] = 1 / hyper.gamma;
    for (let j = 0; j < N; j++) {
      const h = Y[i] * (K.data[i * N + j] + (i === j ? shift : 0)) * Y[j];
      A.data[i * w + N + j] = h; // H
      A.data[(N + j) * w + i] = h; // Hᵀ
    }
  }
  const sol = new PreparedSquare(A).solve(new Float64Array(2 * N).fill(1));
  return {
    alpha: sol.x.slice(0, N),
    beta: sol.x.slice(N),
    Y,
    lambda: hyper.lambda,
    rank: sol.rank,
    shift,
    warnings: sol.warnings,
  };
}

/** λ·ω + (1 − λ)·ν (+ f0), ω(x) = Σ_i α_i Y_i K[i, x], ν(x) = Σ_i β_i Y_i K_flipped[i, x]. */
export function asymPredict(model: AsymModel, input: PredictInput): Float64Array {
  const N = model.alpha.length;
  const flipped = input.Kflipped;
  if (!flipped) throw new Error("asym: the flipped eval kernel is required");
  if (input.K.rows !== N || flipped.rows !== N || flipped.cols !== input.K.cols)
    throw new Error(
      `asym: eval kernels are ${input.K.rows}×${input.K.cols} and ${flipped.rows}×${flipped.cols}, expected ${N}×Q`,
    );
  const omega = matTVec(
    input.K,
    model.alpha.map((a, i) => a * model.Y[i]),
  );
  const nu = matTVec(
    flipped,
    model.beta.map((b, i) => b * model.Y[i]),
  );
  const lam = model.lambda;
  return addF0(
    omega.map((o, q) => lam * o + (1 - lam) * nu[q]),
    input.f0,
  );
}

export const asymSolver: KernelSolver<AsymModel> = {
  name: "asym",
  acceptsF0: true,
  fit: asymFit,
  predict: asymPredict,
  describe: (m) => ({ rank: m.rank, reg_shift: m.shift, lambda: m.lambda, warnings: m.warnings }),
};
