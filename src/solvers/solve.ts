import { join } from "node:path";
import { type MetricName, predictLabels, scoreMetrics } from "../data/metrics.ts";
import { kernelDirFile } from "../kernels/output.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { OptionError } from "../util/errors.ts";
import { writeNpy } from "../util/npy.ts";
import { ENTK_VERSION } from "../version.ts";
import { asymSolver } from "./asym.ts";
import { readSolverInputs, type SolverInputs, type SolverSplit, type SplitName } from "./kernel-dir.ts";
import { logisticSolver } from "./logistic.ts";
import { lstsqSolver } from "./lstsq.ts";
import { PreparedSquare } from "./lstsq-core.ts";
import { svcSolver, svrSolver } from "./svm.ts";
import { targetsFromLabels } from "./targets.ts";
import { DEFAULT_HYPER, type KernelSolver, SOLVER_NAMES, type SolverHyper, type SolverName } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: a registry of estimators with different model types
export const SOLVERS: Record<SolverName, KernelSolver<any>> = {
  lstsq: lstsqSolver,
  logistic: logisticSolver,
  svc: svcSolver,
  svr: svrSolver,
  asym: asymSolver,
};

export interface SolveOptions {
  formula: string;
  solver: SolverName;
  /** Regularization values to try (default [0]); more than one needs `selectOn: "dev"`. */
  regGrid?: number[];
  /** asym: γ values to try (default [1]). */
  gammaGrid?: number[];
  /** asym: λ values to try (default [0.5]). */
  lambdaGrid?: number[];
  /** Pick the grid point with the best dev metric (ties → the first in grid order: reg, then γ, then λ). */
  selectOn?: "dev";
  adjustForInit?: boolean;
  /** s in y − f0/s (docs/protocol.md §4); s ≤ 0 ignores f0, as the reference does. Default 1. */
  f0Scaling?: number;
}

export interface SplitMetrics {
  metric: MetricName;
  score: number;
  acc: number;
  f1?: number;
  /** The reference's reported loss: cross-entropy of the log-odds for logistic, else mean squared error. */
  loss: number;
  n: number;
}

export interface GridEntry {
  reg: number;
  gamma?: number;
  lambda?: number;
  fit_s: number;
  metrics: Partial<Record<SplitName, SplitMetrics>>;
}

export interface SolveResult {
  entk_version: string;
  kernels: string;
  task?: string;
  formula: string;
  solver: SolverName;
  binary: boolean;
  C: number;
  metric: MetricName;
  hyperparameters: {
    reg: number;
    gamma?: number;
    lambda?: number;
    adjust_for_init: boolean;
    f0_scaling: number;
  };
  selected_on: "dev" | null;
  grid: GridEntry[];
  train?: SplitMetrics;
  dev?: SplitMetrics;
  test?: SplitMetrics;
  solver_info: Record<string, unknown>;
  warnings: string[];
  timing: { load_s: number; fit_s: number; predict_s: number; total_s: number };
}

export interface SolveOutput {
  result: SolveResult;
  /** Predicted label index per example of every split present. */
  predictions: Partial<Record<SplitName, Int32Array>>;
}

const now = () => performance.now() / 1000;

/** Validate options that do not depend on the data (so the CLI can fail before reading kernels). */
export function checkSolveOptions(opts: SolveOptions): void {
  if (!SOLVER_NAMES.includes(opts.solver))
    throw new Error(`unknown solver "${opts.solver}" (expected one of ${SOLVER_NAMES.join(", ")})`);
  const grid = opts.regGrid ?? [0];
  if (grid.length === 0) throw new Error("the regularization grid is empty");
  for (const r of grid)
    if (!Number.isFinite(r) || r < 0) throw new Error(`regularization values must be finite and ≥ 0, got ${r}`);
  if ((opts.gammaGrid || opts.lambdaGrid) && opts.solver !== "asym")
    throw new OptionError(
      opts.gammaGrid ? "gammaGrid" : "lambdaGrid",
      (n) => `${n("gammaGrid")} and ${n("lambdaGrid")} apply to the asym solver only`,
    );
  if (opts.gammaGrid?.length === 0 || opts.lambdaGrid?.length === 0) throw new Error("the γ or λ grid is empty");
  for (const g of opts.gammaGrid ?? [])
    if (!Number.isFinite(g) || g <= 0) throw new OptionError("gammaGrid", `values must be finite and > 0, got ${g}`);
  for (const l of opts.lambdaGrid ?? [])
    if (!Number.isFinite(l)) throw new OptionError("lambdaGrid", `values must be finite, got ${l}`);
  if (hyperGrid(opts).length > 1 && opts.selectOn !== "dev")
    throw new OptionError(
      "selectOn",
      (n) =>
        `a hyperparameter grid (several ${n("regGrid")}, ${n("gammaGrid")} or ${n("lambdaGrid")} values) ` +
        `needs ${n("selectOn")} dev`,
    );
  if (opts.adjustForInit && !SOLVERS[opts.solver].acceptsF0)
    throw new OptionError(
      "adjustForInit",
      (n) =>
        `the ${opts.solver} solver does not support ${n("adjustForInit")} (only lstsq, asym and svr do, ` +
        "as in the reference)",
    );
  if (opts.f0Scaling !== undefined && !Number.isFinite(opts.f0Scaling))
    throw new OptionError("f0Scaling", `expected a finite number, got ${opts.f0Scaling}`);
}

/** All grid points in selection order: reg outermost, then γ, then λ. */
function hyperGrid(opts: SolveOptions): SolverHyper[] {
  const out: SolverHyper[] = [];
  for (const reg of opts.regGrid ?? [0])
    for (const gamma of opts.gammaGrid ?? [DEFAULT_HYPER.gamma])
      for (const lambda of opts.lambdaGrid ?? [DEFAULT_HYPER.lambda]) out.push({ reg, gamma, lambda });
  return out;
}

/** Fit on train and evaluate every split of an already-read kernel directory. Pure: writes nothing. */
export function solveKernels(kd: SolverInputs, opts: SolveOptions): SolveOutput {
  const t0 = now();
  checkSolveOptions(opts);
  const solver = SOLVERS[opts.solver];
  const train = kd.splits.train!;
  const grid = hyperGrid(opts);
  if (opts.selectOn === "dev" && !kd.splits.dev)
    throw new OptionError(
      "selectOn",
      (n) => `${n("selectOn")} dev needs ${join(kd.dir, `kernel.${kd.formula}.dev.npy`)}, which is missing`,
    );
  const warnings: string[] = [];
  const s = opts.f0Scaling ?? 1;
  const useF0 = opts.adjustForInit === true && s > 0;
  if (opts.adjustForInit && !useF0) warnings.push(`f0 scaling ${s} ≤ 0: f0 is ignored, as in the reference`);
  const f0Of = (split: SolverSplit) => {
    if (!useF0) return undefined;
    if (!split.f0)
      throw new OptionError(
        "adjustForInit",
        (n) => `${join(kd.dir, `logits.${split.name}.npy`)}: missing (needed by ${n("adjustForInit")})`,
      );
    return split.f0.map((v) => v / s);
  };
  // For symmetric formulas the "flipped" kernel ⟨g(x), g(x_i)⟩ equals the plain one, so asym can use K for both.
  const flippedOf = (split: SolverSplit) => split.Kflipped ?? split.K;
  const y = targetsFromLabels(train.labels, kd.C, kd.binary, join(kd.dir, "labels.train.npy"));
  const prepared = new PreparedSquare(train.K);
  const present = (["train", "dev", "test"] as const).filter((n) => kd.splits[n]);

  const runOne = (hyper: SolverHyper) => {
    const tf = now();
    const model = solver.fit({ K: train.K, y, f0: f0Of(train), prepared }, hyper);
    const fitS = now() - tf;
    const tp = now();
    const preds: Partial<Record<SplitName, Int32Array>> = {};
    const metrics: Partial<Record<SplitName, SplitMetrics>> = {};
    for (const name of present) {
      const split = kd.splits[name]!;
      const out = solver.predict(model, { K: split.K, Kflipped: flippedOf(split), f0: f0Of(split) });
      const pred = predictLabels(out, split.n, kd.C);
      preds[name] = pred;
      const targets = targetsFromLabels(split.labels, kd.C, kd.binary, kernelDirFile.labels(kd.dir, name));
      const loss = opts.solver === "logistic" ? logOddsCrossEntropy(out, targets) : meanSquaredError(out, targets);
      metrics[name] = { ...scoreMetrics(pred, split.labels, kd.metric), loss, n: split.n };
    }
    return { model, fitS, predictS: now() - tp, preds, metrics };
  };

  let best: ReturnType<typeof runOne> | undefined;
  let bestHyper = grid[0];
  const entries: GridEntry[] = [];
  let fitS = 0;
  let predictS = 0;
  const isAsym = opts.solver === "asym";
  for (const hyper of grid) {
    const r = runOne(hyper);
    fitS += r.fitS;
    predictS += r.predictS;
    const point = isAsym ? { reg: hyper.reg, gamma: hyper.gamma, lambda: hyper.lambda } : { reg: hyper.reg };
    entries.push({ ...point, fit_s: r.fitS, metrics: r.metrics });
    if (!best || (grid.length > 1 && r.metrics.dev!.score > best.metrics.dev!.score)) {
      best = r;
      bestHyper = hyper;
    }
  }
  const info: Record<string, unknown> = {
    ...solver.describe(best!.model),
    train_kernel_asymmetry: prepared.asymmetry,
  };
  if (Array.isArray(info.warnings)) warnings.push(...(info.warnings as string[]));
  if (!prepared.symmetric && (opts.solver === "lstsq" || opts.solver === "svc" || opts.solver === "svr"))
    warnings.push(
      `the train–train kernel is not symmetric (relative asymmetry ${prepared.asymmetry.toExponential(2)}); ${opts.solver} uses it as is, like the reference`,
    );
  const result: SolveResult = {
    entk_version: ENTK_VERSION,
    kernels: kd.dir,
    task: kd.task,
    formula: kd.formula,
    solver: opts.solver,
    binary: kd.binary,
    C: kd.C,
    metric: kd.metric,
    hyperparameters: {
      reg: bestHyper.reg,
      ...(isAsym ? { gamma: bestHyper.gamma, lambda: bestHyper.lambda } : {}),
      adjust_for_init: opts.adjustForInit === true,
      f0_scaling: s,
    },
    selected_on: grid.length > 1 ? "dev" : null,
    grid: entries,
    ...best!.metrics,
    solver_info: info,
    warnings,
    timing: { load_s: 0, fit_s: fitS, predict_s: predictS, total_s: now() - t0 },
  };
  return { result, predictions: best!.preds };
}

/** Mean of (out − y)² over all outputs (docs/protocol.md §6 lstsq/asym/svr/svc loss). */
export function meanSquaredError(out: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (out[i] - y[i]) ** 2;
  return s / y.length;
}

/** Mean −log p(class) for log-odds z (class = trunc((y + 1)/2)): log(1 + exp(∓z)), the logistic solver's loss. */
export function logOddsCrossEntropy(z: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const t = Math.trunc((y[i] + 1) / 2) === 1 ? -z[i] : z[i];
    s += t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
  }
  return s / y.length;
}

/** Paths of the result files `solveKernelDir` writes. */
export function resultPaths(dir: string, formula: string, solver: SolverName) {
  const base = join(dir, "results", `${formula}.${solver}`);
  return { json: `${base}.json`, predictions: (split: SplitName) => `${base}.predictions.${split}.npy` };
}

/**
 * Read `dir` (written by `entk kernel`), fit `opts.solver` on the train–train kernel of `opts.formula`, evaluate
 * every split, and write `results/<formula>.<solver>.json` plus `results/<formula>.<solver>.predictions.<split>.npy`
 * (int32 label indices), all atomically.
 */
export async function solveKernelDir(dir: string, opts: SolveOptions): Promise<SolveOutput> {
  checkSolveOptions(opts);
  const t0 = now();
  const kd = readSolverInputs(dir, opts.formula, {
    needFlipped: opts.solver === "asym" && opts.formula === "asymmetric_signgd",
    needLogits: opts.adjustForInit === true && (opts.f0Scaling ?? 1) > 0,
  });
  const loadS = now() - t0;
  const out = solveKernels(kd, opts);
  out.result.timing.load_s = loadS;
  out.result.timing.total_s = now() - t0;
  const paths = resultPaths(dir, opts.formula, opts.solver);
  for (const [split, pred] of Object.entries(out.predictions))
    await writeNpy(paths.predictions(split as SplitName), pred!, [pred!.length]);
  await writeFileAtomic(paths.json, `${JSON.stringify(out.result, null, 2)}\n`);
  return out;
}
