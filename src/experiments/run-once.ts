import { join } from "node:path";
import type { Device } from "../model/runtime/providers.ts";
import { FINETUNE_DEFAULTS } from "../training/defaults.ts";
import { OptionError } from "../util/errors.ts";
import type { MethodConfig, SplitMode, SweepConfig } from "./config.ts";
import { parseMethodSpec } from "./config.ts";
import type { Executor } from "./executor.ts";
import { expandJobs } from "./jobs.ts";
import type { ResultRecord } from "./records.ts";
import { runSweep, type SweepSummary } from "./runner.ts";
import { ResultsStore } from "./store.ts";

export interface RunOnceOptions {
  task: string;
  k: number;
  seed: number;
  model: string;
  revision?: string;
  /** One-line method specs (`kernel:sgd:lstsq`, `ft:adam:lr=1e-5:bs=8:steps=1000`, see parseMethodSpec). */
  methods: string[];
  /** LM-BFF `original/` folder (or a folder holding `<mode>/<task>/<k>-<seed>/` splits). */
  dataDir: string;
  mode?: SplitMode;
  limitEval?: number;
  /** Memory budget in bytes (default half the RAM). */
  memory?: number;
  /** Execution provider (default cpu). */
  device?: Device;
  /** Results store (the sweep layout: OUT/records/<key>.jsonl, OUT/results.jsonl). */
  out: string;
  signal?: AbortSignal;
  quiet?: boolean;
  executor?: Executor;
  log?: (message: string) => void;
  /** Skip malformed data rows with a warning instead of failing. */
  skipBadRows?: boolean;
}

export interface RunOnceResult {
  summary: SweepSummary;
  /** The records of this run's jobs (computed now or found in the store), in method order. */
  records: ResultRecord[];
}

/** What `entk run` assumes when an `ft:` spec leaves them out: `entk finetune`'s defaults. */
export const RUN_FT_DEFAULTS = {
  lr: FINETUNE_DEFAULTS.lr,
  batchSize: FINETUNE_DEFAULTS.batchSize,
  steps: FINETUNE_DEFAULTS.steps,
} as const;

/** `ft:sgd:lr=1e-4` → `ft:sgd:lr=1e-4:batchSize=8:steps=1000` (missing lr, batch size, steps get the defaults). */
export function withFtDefaults(spec: string): string {
  if (!spec.startsWith("ft:") && !spec.startsWith("ft-lin:")) return spec;
  const keys = new Set(
    spec
      .split(":")
      .slice(2)
      .map((p) => p.slice(0, p.indexOf("=")))
      .map((k) => (k === "bs" ? "batchSize" : k)),
  );
  const missing = Object.entries(RUN_FT_DEFAULTS).filter(([k]) => !keys.has(k));
  return [spec, ...missing.map(([k, v]) => `${k}=${v}`)].join(":");
}

/**
 * The one-job-per-method sweep config `entk run` stands for. Method specs are validated here; an `ft:` spec
 * without lr, batch size or steps gets RUN_FT_DEFAULTS, written out, so the job key is that of the explicit spec.
 */
export function runConfig(o: RunOnceOptions): SweepConfig {
  if (o.methods.length === 0) throw new OptionError("methods", "expected at least one method");
  const methods: MethodConfig[] = o.methods.map((m) => parseMethodSpec(withFtDefaults(m)));
  return {
    name: "run",
    model: { id: o.model, ...(o.revision ? { revision: o.revision } : {}) },
    data: { dir: o.dataDir, mode: o.mode ?? "k-shot-1k-test" },
    tasks: [o.task],
    k: [o.k],
    seeds: [o.seed],
    methods,
    limits: o.limitEval === undefined ? {} : { limitEval: o.limitEval },
    ...(o.memory === undefined ? {} : { memory: o.memory }),
    ...(o.device === undefined ? {} : { device: o.device }),
    out: o.out,
  };
}

/**
 * `entk run`: split → kernel → solve (and fine-tuning) for one (task, k, seed), as a one-off sweep, so its jobs
 * have the same content keys as a sweep's, finished ones are skipped, and records land in the same store.
 * OUT/results.jsonl is then rewritten with every record of the store (earlier runs included).
 */
export async function runOnce(o: RunOnceOptions): Promise<RunOnceResult> {
  const config = runConfig(o);
  const summary = await runSweep(config, {
    skipBadRows: o.skipBadRows,
    outDir: o.out,
    signal: o.signal,
    quiet: o.quiet,
    executor: o.executor,
    log: o.log,
  });
  const store = new ResultsStore(o.out);
  if (!summary.interrupted && summary.failed.length === 0) await store.mergeTo(join(o.out, "results.jsonl"));
  const keys = expandJobs(config).map((j) => j.key);
  const byKey = new Map<string, ResultRecord[]>();
  for (const r of store.read()) if (keys.includes(r.key)) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  return { summary, records: keys.flatMap((k) => byKey.get(k) ?? []) };
}
