import type { ResultRecord } from "../experiments/records.ts";
import { canonicalJson } from "../util/canonical.ts";
import { rowMethod, variantSuffix } from "./methods.ts";
import { reportTask, taskInfo } from "./tasks.ts";

/** The configuration chosen on dev for one seed. */
export interface SeedBest {
  seed: number;
  record: ResultRecord;
  dev: number;
  test: number;
}

/** One table cell: (k, method row, task) over seeds. Values are in [0, 1]. */
export interface Cell {
  k: number;
  /** Row key: the method (see rowMethod), suffixed with `@<model id>` when the records hold several models. */
  method: string;
  model: string;
  task: string;
  metric: string;
  seeds: SeedBest[];
  mean: number;
  /** Population standard deviation (ddof = 0), as the reference's gather_result.py (np.std). */
  std: number;
}

export interface AggregateOptions {
  /** Treat the kernel solver as a hyperparameter (one row per formula) instead of one row per solver. */
  poolSolvers?: boolean;
}

/** Stable order among a seed's candidate configurations; the first wins a dev tie. */
const configOrder = (r: ResultRecord) => `${r.method}|${canonicalJson(r.hyperparameters)}|${r.key}`;

function metricOf(r: ResultRecord, split: "dev" | "test", metric: string): number {
  const v = r[split][metric];
  if (typeof v !== "number")
    throw new Error(
      `record ${r.key} (${r.task} k=${r.k} seed=${r.seed} ${r.method}) has no ${split} metric "${metric}" ` +
        `(has: ${Object.keys(r[split]).join(", ")})`,
    );
  return v;
}

export function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * docs/protocol.md §1.2 (gather_result.py): for each (k, method, task) and seed, the configuration with the best dev
 * metric (ties: the first in a stable order of method, hyperparameters, job key); then mean and population std
 * of its test metric over seeds.
 */
export function aggregate(records: ResultRecord[], opts: AggregateOptions = {}): Cell[] {
  const bySeed = new Map<string, ResultRecord[]>();
  const multiModel = new Set(records.map((r) => r.model.id)).size > 1;
  for (const r of records) {
    const row =
      rowMethod(r.method, opts.poolSolvers ?? false) +
      variantSuffix(r.hyperparameters) +
      (multiModel ? `@${r.model.id}` : "");
    const id = JSON.stringify([r.k, row, reportTask(r.task, r.dataset), r.seed]);
    const list = bySeed.get(id);
    if (list) list.push(r);
    else bySeed.set(id, [r]);
  }
  const cells = new Map<string, Cell>();
  for (const [id, candidates] of bySeed) {
    const [k, method, task, seed] = JSON.parse(id) as [number, string, string, number];
    // The metric the job recorded (a custom task's own); older records: the task name's (taskInfo).
    const metric = candidates.find((r) => r.metric)?.metric ?? taskInfo(task).metric;
    const sorted = [...candidates].sort((a, b) =>
      configOrder(a) < configOrder(b) ? -1 : configOrder(a) > configOrder(b) ? 1 : 0,
    );
    let best = sorted[0];
    for (const r of sorted.slice(1)) if (metricOf(r, "dev", metric) > metricOf(best, "dev", metric)) best = r;
    const cellId = JSON.stringify([k, method, task]);
    let cell = cells.get(cellId);
    if (!cell)
      cells.set(
        cellId,
        (cell = { k, method, model: candidates[0].model.id, task, metric, seeds: [], mean: 0, std: 0 }),
      );
    cell.seeds.push({ seed, record: best, dev: metricOf(best, "dev", metric), test: metricOf(best, "test", metric) });
  }
  for (const cell of cells.values()) {
    cell.seeds.sort((a, b) => a.seed - b.seed);
    Object.assign(cell, meanStd(cell.seeds.map((s) => s.test)));
  }
  return [...cells.values()];
}

/** `mean (std)` ×100 with one decimal, as the paper prints it. */
export function formatMeanStd(mean: number, std: number): string {
  return `${(mean * 100).toFixed(1)} (${(std * 100).toFixed(1)})`;
}
