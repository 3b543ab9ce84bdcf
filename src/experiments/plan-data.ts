/**
 * Measured token counts for `entk sweep --plan` (src/experiments/plan.ts): a job's (task, k, seed) split is made as
 * the runner makes it (ensureSplit, here into a scratch folder; limits.limitEval applied) and prompt-encoded with the
 * model's tokenizer, so the counts are the ones the job will see.
 *
 * When the split cannot be made (the task's full original data is not there), the counts are approximated from what
 * is: LM-BFF's official split of that seed (`<data.dir>/../k-shot/<task>/<k or 16>-<seed>/`, train and dev files)
 * and the task's original files (`<data.dir>/<task>/`: the train file, the first eval file as test); train and dev
 * take k examples per label, the test set min(its file's size, 1,000 in k-shot-1k-test mode) — 1,000 when no test
 * file is there at all (every task of the bundled protocol has a larger test set, docs/protocol.md). A missing
 * split's lengths are borrowed from another split, cycled. The estimate then carries a note saying so.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DataLayout } from "../data/layout.ts";
import { loadPromptedSplits, type SplitName } from "../pipelines/prompted-splits.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";
import type { Job } from "./jobs.ts";
import { ensureSplit } from "./splits.ts";

export interface UnitTokens {
  train: number[];
  dev: number[];
  test: number[];
  labelWordIds: number[];
  /** Set when the counts are approximated (what was missing, what was used instead). */
  approx?: string;
}

const TEST_CAP = 1000;

/** Token counts per unit (task, k, seed), measured once each. */
export function unitTokenCounter(tok: EntkTokenizer, scratch: string): (job: Job) => Promise<UnitTokens> {
  const memo = new Map<string, Promise<UnitTokens>>();
  return (job) => {
    const key = `${job.task}|${job.k}|${job.seed}|${job.data.dir}|${job.data.mode}|${job.limits.limitEval ?? ""}`;
    let p = memo.get(key);
    if (!p) {
      p = measure(job, tok, scratch);
      memo.set(key, p);
    }
    return p;
  };
}

async function measure(job: Job, tok: EntkTokenizer, scratch: string): Promise<UnitTokens> {
  const task = loadTask(job.task);
  let dir: string;
  try {
    dir = await ensureSplit({ task, k: job.k, seed: job.seed, data: job.data, splitsRoot: scratch });
  } catch (err) {
    return approximate(job, task, tok, (err as Error).message);
  }
  const s = loadPromptedSplits(task, dir, tok, { limitEval: job.limits.limitEval });
  const len = (split: SplitName) => (s.splits[split] ?? []).map((x) => x.inputIds.length);
  return { train: len("train"), dev: len("dev"), test: len("test"), labelWordIds: s.labelWordIds };
}

function approximate(job: Job, task: TaskDef, tok: EntkTokenizer, why: string): UnitTokens {
  const kshot = join(dirname(job.data.dir), "k-shot", task.name);
  const original = join(job.data.dir, task.data.dir);
  const sources: { dir: string; layout: DataLayout; splits: SplitName[]; what: string }[] = [];
  for (const k of [job.k, 16]) {
    const d = join(kshot, `${k}-${job.seed}`);
    if (existsSync(d)) {
      sources.push({ dir: d, layout: task.data, splits: ["train", "dev"], what: `LM-BFF's ${k}-${job.seed} split` });
      break;
    }
  }
  const origLayout = {
    ...task.data,
    files: { ...task.data.files, train: task.data.original.train, test: task.data.original.eval[0] },
  };
  sources.push({ dir: original, layout: origLayout, splits: ["train", "test"], what: "the original files" });
  const found: Partial<Record<SplitName, number[]>> = {};
  let labelWordIds: number[] | undefined;
  const used: string[] = [];
  for (const src of sources)
    for (const split of src.splits) {
      if (found[split] || !existsSync(join(src.dir, src.layout.files[split]))) continue;
      const s = loadPromptedSplits({ ...task, data: src.layout }, src.dir, tok, { splits: [split] });
      found[split] = (s.splits[split] ?? []).map((x) => x.inputIds.length);
      labelWordIds = s.labelWordIds;
      used.push(`${split} from ${src.what}`);
    }
  const any = found.train ?? found.dev ?? found.test;
  if (!any || !labelWordIds)
    throw new Error(`${task.name}: no data to measure token counts (${why}; nor ${kshot} nor ${original})`);
  const n = job.k * task.labels.length;
  const cycle = (xs: number[], m: number) => Array.from({ length: m }, (_, i) => xs[i % xs.length]);
  const capped = job.data.mode === "k-shot-1k-test";
  const nTest = found.test ? (capped ? Math.min(found.test.length, TEST_CAP) : found.test.length) : TEST_CAP;
  const limit = job.limits.limitEval ?? Number.POSITIVE_INFINITY;
  return {
    train: cycle(found.train ?? any, n),
    dev: cycle(found.dev ?? found.train ?? any, Math.min(n, limit)),
    test: cycle(found.test ?? found.dev ?? any, Math.min(nTest, limit)),
    labelWordIds,
    approx: `token counts approximated (${used.join(", ")}${found.test ? "" : `; ${nTest} test examples assumed`})`,
  };
}
