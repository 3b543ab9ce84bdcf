/** Kernel solvers (docs/protocol.md §5–6): estimators, metrics, the kernel-directory reader and `solveKernelDir`. */

export {
  accuracy,
  f1Binary,
  type MetricName,
  metricForTask,
  predictLabels,
  scoreMetrics as evaluate,
} from "../data/metrics.ts";
export { type AsymModel, asymFit, asymPredict, asymSolver } from "./asym.ts";
export { type SymEig, symEig } from "./eigen.ts";
export { readSolverInputs, type SolverInputs, type SolverSplit, SPLITS, type SplitName } from "./kernel-dir.ts";
export { LOGISTIC_CS, type LogisticModel, logisticFit, logisticPredict, logisticSolver } from "./logistic.ts";
export { type LstsqModel, lstsqFit, lstsqPredict, lstsqSolver } from "./lstsq.ts";
export { defaultRcond, type LstsqSolution, PreparedSquare } from "./lstsq-core.ts";
export { type Mat, mat } from "./matrix.ts";
export {
  checkSolveOptions,
  type GridEntry,
  logOddsCrossEntropy,
  meanSquaredError,
  resultPaths,
  SOLVERS,
  type SolveOptions,
  type SolveOutput,
  type SolveResult,
  type SplitMetrics,
  solveKernelDir,
  solveKernels,
} from "./solve.ts";
export { stratifiedTestFolds } from "./stratified-kfold.ts";
export { type SvmModel, svcFit, svcPredict, svcSolver, svmDecision, svrFit, svrPredict, svrSolver } from "./svm.ts";
export { binaryClassTargets, targetsFromLabels } from "./targets.ts";
export {
  DEFAULT_HYPER,
  type FitInput,
  type KernelSolver,
  type PredictInput,
  SOLVER_NAMES,
  type SolverHyper,
  type SolverName,
} from "./types.ts";
