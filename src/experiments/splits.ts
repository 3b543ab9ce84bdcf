import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { generateKShot } from "../data/kshot.ts";
import { writeEvalSubsample } from "../data/subsample.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import { sha256Hex } from "../util/canonical.ts";
import type { SplitMode } from "./config.ts";
import type { JobContext } from "./executor.ts";
import type { Job } from "./jobs.ts";

export interface SplitRequest {
  task: TaskDef;
  k: number;
  seed: number;
  /** The job's data location: LM-BFF's `original/` folder, and the split mode. */
  data: { dir: string; mode: SplitMode };
  /** Where generated splits go (`<root>/<mode>/<task>/<k>-<seed>/`); shared by the jobs of a (task, model) group. */
  splitsRoot: string;
}

/** `<root>/<mode>/<task>/<k>-<seed>`, the layout `entk data split` writes. */
export function splitDirOf(root: string, mode: SplitMode, task: string, k: number, seed: number): string {
  return join(root, mode, task, `${k}-${seed}`);
}

/** A split is usable when its train, dev and test files all exist (an interrupted generation is redone). */
const hasSplit = (dir: string, task: TaskDef) =>
  [task.data.files.train, task.data.files.dev, task.data.files.test].every((f) => existsSync(join(dir, f)));

/**
 * The k-shot split directory of (task, k, seed). An existing split is used as is: `data.dir/<mode>/…` or, when
 * data.dir is an `original/` folder, its sibling `<parent>/<mode>/…` (the layout `entk data split --out` gives).
 * Otherwise the split is generated from `data.dir/<task>/` with LM-BFF's sampler (src/data) into `splitsRoot`;
 * generation is deterministic and every file is written atomically, so concurrent jobs may race on it safely.
 */
export async function ensureSplit(r: SplitRequest): Promise<string> {
  const { task, k, seed, data } = r;
  for (const root of [data.dir, dirname(data.dir)]) {
    const dir = splitDirOf(root, data.mode, task.name, k, seed);
    if (hasSplit(dir, task)) return dir;
  }
  const dir = splitDirOf(r.splitsRoot, data.mode, task.name, k, seed);
  if (hasSplit(dir, task)) return dir;
  const original = join(data.dir, task.data.dir, task.data.original.train);
  if (!existsSync(original))
    throw new Error(
      `no ${data.mode} split for ${task.name} k=${k} seed=${seed}: neither ` +
        `${splitDirOf(data.dir, data.mode, task.name, k, seed)} nor ${original} (LM-BFF original/ layout) exists`,
    );
  await generateKShot({
    dataDir: data.dir,
    outDir: r.splitsRoot,
    k,
    seeds: [seed],
    mode: data.mode,
    tasks: [{ name: task.name, layout: task.data }],
  });
  return dir;
}

/**
 * The split in `splitDir` with dev and test cut to a seeded subsample of `limitEval` examples each
 * (`subsampleIndices`: seed fixed, so every split seed keeps the same examples of the same test file), written
 * once under `root/<n>/<hash of splitDir>/` and reused.
 */
export async function limitEvalSplit(
  splitDir: string,
  task: TaskDef,
  limitEval: number,
  root: string,
): Promise<string> {
  const dir = join(root, String(limitEval), sha256Hex(resolve(splitDir)).slice(0, 16));
  if (!hasSplit(dir, task)) await writeEvalSubsample(splitDir, dir, task.data, limitEval);
  return dir;
}

/**
 * A job's task and k-shot split directory (ensureSplit, generating into the group's `ctx.cacheDir/splits`). With
 * `limits.limitEval`, the directory of its limitEvalSplit: kernels and fine-tuning see the same eval examples.
 */
export async function jobSplit(job: Job, ctx: JobContext): Promise<{ task: TaskDef; splitDir: string }> {
  const task = loadTask(job.task);
  const splitDir = await ensureSplit({
    task,
    k: job.k,
    seed: job.seed,
    data: job.data,
    splitsRoot: join(ctx.cacheDir, "splits"),
  });
  ctx.signal.throwIfAborted();
  const limit = job.limits.limitEval;
  if (limit === undefined) return { task, splitDir };
  return { task, splitDir: await limitEvalSplit(splitDir, task, limit, join(ctx.cacheDir, "eval-subsamples")) };
}
