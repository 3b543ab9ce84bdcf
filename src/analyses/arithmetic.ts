/**
 * Task arithmetic (docs/analyses.md §2; Ilharco et al. 2023, Ortiz-Jimenez et al. 2023) on an edited model whose
 * tasks are each evaluated on dev (selection) and test (report), with the task's own metric.
 *  - normalized score of task t under α: score(θ₀ + Σ αᵢτᵢ; t) / score(θ₀ + τ_t; t), the denominator being the
 *    task's own fine-tuned model evaluated the same way (nonlinear or linearized);
 *  - addition: one α for all vectors from `grid` (default linspace(0, 1, 21)), chosen by the mean normalized dev
 *    score (ties → the first);
 *  - negation of task t: θ₀ − α τ_t for α in the grid; among the α whose every other (control) task keeps at least
 *    `controlShare` (0.95) of its zero-shot dev score, the one with the lowest dev score on t (ties → smaller α).
 * Also the weight disentanglement error of two tasks on a grid (disentanglement()).
 */
import { predictLabels, scoreMetrics } from "../data/metrics.ts";
import type { EditedModel, TaskEval } from "./edited-model.ts";

export const DEFAULT_GRID = Array.from({ length: 21 }, (_, i) => i / 20);
export const CONTROL_SHARE = 0.95;

export interface SplitScores {
  dev: number[];
  test: number[];
}

export interface ArithmeticResult {
  tasks: string[];
  metrics: string[];
  zeroShot: SplitScores;
  finetuned: SplitScores;
  addition: {
    grid: number[];
    /** Mean normalized dev score per grid point. */
    devNormalizedMean: number[];
    alpha: number;
    dev: { absolute: number[]; normalized: number[] };
    test: { absolute: number[]; normalized: number[] };
  };
  negation: {
    target: string;
    /** α actually subtracted (θ₀ − α τ_target); null when no grid point kept the controls. */
    alpha: number | null;
    controlShare: number;
    dev: { target: number; controls: number[] } | null;
    test: { target: number; controls: number[] } | null;
    zeroShotTest: { target: number; controls: number[] };
  }[];
}

/** The task metric on dev and test of each task from its logits (rows: dev first, then test). */
export function scoreSplits(tasks: readonly TaskEval[], logits: readonly Float64Array[]): SplitScores {
  const dev: number[] = [];
  const test: number[] = [];
  tasks.forEach((t, i) => {
    const n = t.inputs.length;
    const C = logits[i].length / n;
    const pred = predictLabels(logits[i], n, C);
    const score = (a: number, b: number) =>
      b > a ? scoreMetrics(pred.subarray(a, b), t.labels.subarray(a, b), t.metric).score : Number.NaN;
    dev.push(score(0, t.nDev));
    test.push(score(t.nDev, n));
  });
  return { dev, test };
}

const unit = (k: number, i: number, a = 1) => Array.from({ length: k }, (_, j) => (j === i ? a : 0));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function taskArithmetic(
  model: EditedModel,
  opts: { grid?: number[]; controlShare?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ArithmeticResult> {
  const tasks = model.tasks;
  const k = tasks.length;
  const grid = opts.grid ?? DEFAULT_GRID;
  const share = opts.controlShare ?? CONTROL_SHARE;
  const total = 1 + k + grid.length + k * grid.length;
  let done = 0;
  const run = async (alphas: number[]) => {
    const s = scoreSplits(tasks, await model.outputs(alphas));
    opts.onProgress?.(++done, total);
    return s;
  };
  const zeroShot = await run(unit(k, -1));
  const ft: SplitScores = { dev: [], test: [] };
  for (let t = 0; t < k; t++) {
    const s = await run(unit(k, t));
    ft.dev.push(s.dev[t]);
    ft.test.push(s.test[t]);
  }
  const norm = (xs: number[], ref: number[]) => xs.map((x, t) => (ref[t] > 0 ? x / ref[t] : Number.NaN));

  // Addition: the same α on every vector.
  const addScores: SplitScores[] = [];
  for (const a of grid) addScores.push(await run(Array(k).fill(a)));
  const devNormalizedMean = addScores.map((s) => mean(norm(s.dev, ft.dev)));
  let best = 0;
  devNormalizedMean.forEach((v, i) => {
    if (v > devNormalizedMean[best]) best = i;
  });
  const chosen = addScores[best];

  // Negation: θ₀ − α τ_t, every other task as control.
  const negation: ArithmeticResult["negation"] = [];
  for (let t = 0; t < k; t++) {
    const others = tasks.map((_, j) => j).filter((j) => j !== t);
    let pick: { a: number; s: SplitScores } | null = null;
    for (const a of grid) {
      const s = await run(unit(k, t, -a));
      const keeps = others.every((j) => s.dev[j] >= share * zeroShot.dev[j]);
      if (keeps && (pick === null || s.dev[t] < pick.s.dev[t])) pick = { a, s };
    }
    negation.push({
      target: tasks[t].name,
      alpha: pick ? pick.a : null,
      controlShare: share,
      dev: pick ? { target: pick.s.dev[t], controls: others.map((j) => pick.s.dev[j]) } : null,
      test: pick ? { target: pick.s.test[t], controls: others.map((j) => pick.s.test[j]) } : null,
      zeroShotTest: { target: zeroShot.test[t], controls: others.map((j) => zeroShot.test[j]) },
    });
  }
  return {
    tasks: tasks.map((t) => t.name),
    metrics: tasks.map((t) => t.metric),
    zeroShot,
    finetuned: ft,
    addition: {
      grid,
      devNormalizedMean,
      alpha: grid[best],
      dev: { absolute: chosen.dev, normalized: norm(chosen.dev, ft.dev) },
      test: { absolute: chosen.test, normalized: norm(chosen.test, ft.test) },
    },
    negation,
  };
}

export interface DisentanglementResult {
  tasks: [string, string];
  /** Grid values of α₁ (columns) and α₂ (rows). */
  grid: number[];
  /** ξ(α₁, α₂) as rows over α₂, columns over α₁. */
  xi: number[][];
  /** Mean of ξ over the grid. */
  mean: number;
}

/** Evenly spaced values from lo to hi, n ≥ 2 points (both ends included). */
export function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/**
 * Weight disentanglement error of two tasks (Ortiz-Jimenez et al. 2023, eq. 3):
 *   ξ(α₁, α₂) = Σ_{t=1,2} E_{x∼t} 1{pred(θ₀ + α_t τ_t; x) ≠ pred(θ₀ + α₁τ₁ + α₂τ₂; x)},
 * each expectation over all of task t's evaluation inputs (dev and test rows of the model's tasks).
 */
export async function disentanglement(
  model: EditedModel,
  grid: number[],
  onProgress?: (done: number, total: number) => void,
): Promise<DisentanglementResult> {
  if (model.tasks.length !== 2) throw new Error(`disentanglement needs exactly two tasks, got ${model.tasks.length}`);
  const preds = (logits: Float64Array[]) =>
    logits.map((l, t) => predictLabels(l, model.tasks[t].inputs.length, l.length / model.tasks[t].inputs.length));
  const total = 2 * grid.length + grid.length * grid.length;
  let done = 0;
  const tick = () => onProgress?.(++done, total);
  // Single-task edits: pred(θ₀ + α τ_t) on task t, for every α.
  const single: Int32Array[][] = [[], []];
  for (const a of grid) {
    single[0].push(preds(await model.outputs([a, 0]))[0]);
    tick();
    single[1].push(preds(await model.outputs([0, a]))[1]);
    tick();
  }
  const xi: number[][] = [];
  let sum = 0;
  for (let r = 0; r < grid.length; r++) {
    const row: number[] = [];
    for (let c = 0; c < grid.length; c++) {
      const both = preds(await model.outputs([grid[c], grid[r]]));
      tick();
      let e = 0;
      for (const [t, i] of [
        [0, c],
        [1, r],
      ] as const) {
        const s = single[t][i];
        let diff = 0;
        for (let x = 0; x < s.length; x++) if (s[x] !== both[t][x]) diff++;
        e += s.length ? diff / s.length : 0;
      }
      row.push(e);
      sum += e;
    }
    xi.push(row);
  }
  return {
    tasks: [model.tasks[0].name, model.tasks[1].name],
    grid,
    xi,
    mean: sum / (grid.length * grid.length),
  };
}
