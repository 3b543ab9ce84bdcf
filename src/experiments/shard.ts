import { OptionError } from "../util/errors.ts";
import type { Job } from "./jobs.ts";

/** Shard i of n, 1-based (as Slurm's SLURM_ARRAY_TASK_ID usually is with --array=1-n). */
export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 1, count: 1 };

/** Parse `i/n` (1 ≤ i ≤ n). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new OptionError("shard", `expected i/n (e.g. 2/8), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new OptionError("shard", `expected 1 <= i <= n, got "${text}"`);
  return { index, count };
}

/**
 * The jobs shard i/n runs: work-sharing units (task, model, k, seed) in expansion order are dealt round-robin, so
 * shards get near-equal numbers of units, a unit's jobs (which share a split and its gradients) stay together,
 * and every job belongs to exactly one shard. Files are named by job key, so shards never write the same file.
 * All shards must use the same config (the shard manifest records its hash).
 */
export function selectShard(jobs: Job[], shard: Shard): Job[] {
  if (shard.count === 1) return jobs;
  const unitIndex = new Map<string, number>();
  for (const j of jobs) if (!unitIndex.has(j.unit)) unitIndex.set(j.unit, unitIndex.size);
  return jobs.filter((j) => (unitIndex.get(j.unit) as number) % shard.count === shard.index - 1);
}
