import { type LstsqSolution, PreparedSquare } from "./lstsq-core.ts";
import { matTVec } from "./matrix.ts";
import { regularizationShift } from "./regularization.ts";
import type { FitInput, KernelSolver, PredictInput, SolverHyper } from "./types.ts";

export interface LstsqModel {
  /** Dual coefficients α (length P). */
  alpha: Float64Array;
  rank: number;
  /** The r·σ_max added to the diagonal. */
  shift: number;
  warnings: string[];
}

function withF0(y: Float64Array, f0: Float64Array | undefined, what: string): Float64Array {
  if (!f0) return y;
  if (f0.length !== y.length) throw new Error(`${what}: f0 has length ${f0.length}, expected ${y.length}`);
  return y.map((v, i) => v - f0[i]);
}

/** y − f0 (the residual targets of `adjustForInit`), or y itself. */
export function residualTargets(train: FitInput): Float64Array {
  return withF0(train.y, train.f0, "fit");
}

/** out + f0 when f0 is given. */
export function addF0(out: Float64Array, f0: Float64Array | undefined): Float64Array {
  if (!f0) return out;
  if (f0.length !== out.length) throw new Error(`predict: f0 has length ${f0.length}, expected ${out.length}`);
  return out.map((v, i) => v + f0[i]);
}

/** α = (K + r·σ_max·I)⁺ (y − f0), minimum norm (docs/protocol.md §6 lstsq). */
export function lstsqFit(train: FitInput, hyper: Pick<SolverHyper, "reg">): LstsqModel {
  const prep = train.prepared ?? new PreparedSquare(train.K);
  const shift = regularizationShift(prep, hyper.reg);
  const sol: LstsqSolution = prep.solve(residualTargets(train), shift);
  return { alpha: sol.x, rank: sol.rank, shift, warnings: sol.warnings };
}

/** f(x) = Σ_p K_e[p, x]·α_p (+ f0): the sum runs over the train (row) index, as in the reference. */
export function lstsqPredict(model: LstsqModel, input: PredictInput): Float64Array {
  if (input.K.rows !== model.alpha.length)
    throw new Error(`predict: eval kernel has ${input.K.rows} train rows, model has ${model.alpha.length}`);
  return addF0(matTVec(input.K, model.alpha), input.f0);
}

export const lstsqSolver: KernelSolver<LstsqModel> = {
  name: "lstsq",
  acceptsF0: true,
  fit: lstsqFit,
  predict: lstsqPredict,
  describe: (m) => ({ rank: m.rank, reg_shift: m.shift, warnings: m.warnings }),
};
