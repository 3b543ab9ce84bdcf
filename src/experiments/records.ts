import { cpus, release, totalmem, type } from "node:os";
import { DATASET_VARIANTS, type DatasetVariant, isDatasetVariant } from "../data/dataset-variant.ts";
import type { MetricName } from "../data/metrics.ts";
import type { HyperValue } from "./jobs.ts";

export const RECORD_SCHEMA = "entk.result/1";

/** The machine a result was computed on (no host name: records may be shared). */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  os: string;
  arch: string;
}

/** One result: a method with one hyperparameter configuration on one (task, k, seed). One JSON line. */
export interface ResultRecord {
  schema: typeof RECORD_SCHEMA;
  /** Content key of the job that produced it. */
  key: string;
  task: string;
  k: number;
  seed: number;
  method: string;
  hyperparameters: Record<string, HyperValue>;
  /** The task's metric, the one dev selection and the report use (absent in records written before it was kept). */
  metric?: MetricName;
  /** Metrics in [0, 1] by name (acc; f1 for MRPC/QQP; more are allowed). */
  dev: Record<string, number>;
  test: Record<string, number>;
  model: { id: string; revision?: string; weightsHash: string };
  entkVersion: string;
  /** Seconds the job took (all of its records share it). */
  wallTimeS: number;
  finishedAt: string;
  configHash?: string;
  machine?: MachineInfo;
  /** Which data the split holds (dataset-variant.ts); absent in older records, read as "lm-bff". */
  dataset?: DatasetVariant;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? "unknown",
    memoryBytes: totalmem(),
    node: process.versions.node,
    os: `${type()} ${release()}`,
    arch: process.arch,
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Check a parsed record; returns a problem description or undefined when it is well formed. */
export function recordProblem(r: unknown): string | undefined {
  if (!isObj(r)) return "expected a JSON object";
  if (r.schema !== RECORD_SCHEMA) return `expected schema "${RECORD_SCHEMA}", got ${JSON.stringify(r.schema)}`;
  for (const f of ["key", "task", "method", "entkVersion", "finishedAt"] as const)
    if (typeof r[f] !== "string" || r[f] === "") return `"${f}" must be a non-empty string`;
  for (const f of ["k", "seed"] as const) if (!Number.isInteger(r[f])) return `"${f}" must be an integer`;
  if (typeof r.wallTimeS !== "number" || !(r.wallTimeS >= 0)) return `"wallTimeS" must be a number >= 0`;
  if (!isObj(r.hyperparameters)) return `"hyperparameters" must be an object`;
  for (const [k, v] of Object.entries(r.hyperparameters))
    if (!["number", "string", "boolean"].includes(typeof v)) return `hyperparameter "${k}" must be a scalar`;
  if (r.metric !== undefined && r.metric !== "acc" && r.metric !== "f1") return `"metric" must be "acc" or "f1"`;
  for (const split of ["dev", "test"] as const) {
    const m = r[split];
    if (!isObj(m) || Object.keys(m).length === 0) return `"${split}" must be a non-empty object of metrics`;
    for (const [k, v] of Object.entries(m))
      if (typeof v !== "number" || !Number.isFinite(v)) return `${split} metric "${k}" must be a finite number`;
  }
  if (!isObj(r.model) || typeof r.model.id !== "string" || typeof r.model.weightsHash !== "string")
    return `"model" must be {id, weightsHash}`;
  if (r.dataset !== undefined && !isDatasetVariant(r.dataset))
    return `"dataset" must be one of ${DATASET_VARIANTS.join(", ")}, got ${JSON.stringify(r.dataset)}`;
  return undefined;
}
