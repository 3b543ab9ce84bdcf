import { contentKey } from "../util/canonical.ts";
import type { SplitMode, SweepConfig } from "./config.ts";
import { methodModule } from "./method-modules.ts";

export type HyperValue = number | string | boolean;

/** Everything that determines a job's results. Its canonical JSON hash is the job's content key. */
export interface JobSpec {
  /** Spec format version: bump only if the meaning of a field changes. */
  v: 1;
  task: string;
  k: number;
  seed: number;
  model: { id: string; revision?: string };
  data: { dir: string; mode: SplitMode };
  limits: { limitEval?: number };
  /**
   * `kernel:<formula>:<solver>`, `ft:<optimizer>`, `ft-lin:<optimizer>` or a method module's (method-modules.ts);
   * the part before the first ":" is the kind.
   */
  method: string;
  /** Fixed hyperparameters and options of this job (e.g. lr, batchSize, steps; binary). */
  hyperparameters: Record<string, HyperValue>;
  /** Hyperparameters swept inside the job, one result record per grid point (e.g. the kernel solver's reg). */
  grid: Record<string, number[]>;
}

export interface Job extends JobSpec {
  /** Content key: 16 hex digits of sha256(canonical JSON of the spec). Names every file the job writes. */
  key: string;
  /**
   * Work-sharing unit (task, model, k, seed): jobs of one unit share a k-shot split and its train-set gradients,
   * so sharding keeps a unit on one shard.
   */
  unit: string;
  /** Test-set sharing group (task, model): its test-set gradients are computed once and reused by every k/seed. */
  group: string;
}

export function methodKind(method: string): string {
  const i = method.indexOf(":");
  return i < 0 ? method : method.slice(0, i);
}

function cartesian<T>(lists: T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}

/** The (method, hyperparameters, grid) triples one method entry expands to, in config order. */
function methodVariants(
  m: SweepConfig["methods"][number],
): Omit<JobSpec, "v" | "task" | "k" | "seed" | "model" | "data" | "limits">[] {
  if (m.kind === "kernel")
    return cartesian<string>([m.formulas, m.solvers]).map(([formula, solver]) => {
      const grid: Record<string, number[]> = { reg: m.grid.reg };
      if (solver === "asym") {
        if (m.grid.gamma) grid.gamma = m.grid.gamma;
        if (m.grid.lambda) grid.lambda = m.grid.lambda;
      }
      return { method: `kernel:${formula}:${solver}`, hyperparameters: { ...m.options }, grid };
    });
  if (m.kind === "zero-shot") return [{ method: "zero-shot", hyperparameters: {}, grid: {} }];
  if (m.kind === "probe") return [{ method: "probe", hyperparameters: { ...m.options }, grid: {} }];
  if (m.kind === "module") {
    const mod = methodModule(m.module);
    if (!mod) throw new Error(`method kind "${m.module}" is not registered (ENTK_METHOD_MODULES)`);
    return mod.expand(m.entry);
  }
  return m.optimizers.flatMap((opt) =>
    cartesian<number>([m.lr, m.batchSize, m.steps]).map(([lr, batchSize, steps]) => ({
      method: `${m.kind}:${opt}`,
      hyperparameters: { ...m.options, lr, batchSize, steps },
      grid: {},
    })),
  );
}

/**
 * Expand a config into jobs, ordered so that work is shared: grouped by (task, model) — the test set's gradients
 * are computed once per group — then by k and seed (one split and one train-set gradient pass per unit), then by
 * method in config order. Duplicate specs (e.g. the same method listed twice) collapse into one job.
 */
export function expandJobs(config: SweepConfig): Job[] {
  const variants = config.methods.flatMap((m) =>
    methodVariants(m).map((v) => ({ v, only: m.tasks?.map((t) => t.toLowerCase()) })),
  );
  const modelTag = `${config.model.id}${config.model.revision ? `@${config.model.revision}` : ""}`;
  const jobs: Job[] = [];
  const seen = new Set<string>();
  for (const task of config.tasks)
    for (const k of config.k)
      for (const seed of config.seeds)
        for (const { v, only } of variants) {
          if (only && !only.includes(task.toLowerCase())) continue;
          const spec: JobSpec = {
            v: 1,
            task,
            k,
            seed,
            model: config.model,
            data: config.data,
            limits: config.limits,
            ...v,
          };
          const key = contentKey(spec);
          if (seen.has(key)) continue;
          seen.add(key);
          jobs.push({ ...spec, key, unit: `${task}|${modelTag}|k=${k}|seed=${seed}`, group: `${task}|${modelTag}` });
        }
  return jobs;
}

/** Every point of a job's grid, in order (last key varies fastest); one point `{}` for an empty grid. */
export function gridPoints(grid: Record<string, number[]>): Record<string, number>[] {
  const keys = Object.keys(grid);
  return cartesian(keys.map((k) => grid[k])).map((vals) => Object.fromEntries(keys.map((k, i) => [k, vals[i]])));
}
