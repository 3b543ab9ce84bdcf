/**
 * Bug 1 of issue 14: a custom task's metric reaches the kernel side. runKernelJob records the task's `metric` in
 * meta.json, and the solvers score with it (F1 here, although the task's name says nothing about F1).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readKernelMeta } from "../../src/kernels/output.ts";
import { runKernelJob } from "../../src/pipelines/kernel-job.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { solveKernelDir } from "../../src/solvers/solve.ts";
import { readNpy } from "../../src/util/npy.ts";
import { writeSentenceSplit } from "../helpers/synthetic-data.ts";

const MODEL = join(import.meta.dirname, "../../models/tiny-roberta");
const SENTS = {
  train: ["a great movie", "terrible acting", "it was fine", "great fun , great cast", "dull", "lovely"],
  dev: ["so terrible", "a movie", "fun", "great cast"],
  test: ["great", "not great at all", "acting fine", "terrible fun", "a dull movie"],
};

let root: string;
let splitDir: string;
let taskFile: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "entk-kernel-job-"));
  splitDir = writeSentenceSplit(join(root, "split"), SENTS);
  // A custom task: GLUE-SST-2's layout under another name, scored by F1.
  const base = JSON.parse(readFileSync(join(import.meta.dirname, "../../prompts/GLUE-SST-2.json"), "utf8"));
  taskFile = join(root, "my-task.json");
  writeFileSync(taskFile, JSON.stringify({ ...base, name: "my-task", metric: "f1" }));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Binary F1 with positive class 1, counted here. */
function f1(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  let tp = 0;
  let wrong = 0;
  for (let i = 0; i < labels.length; i++) {
    if (pred[i] === 1 && labels[i] === 1) tp++;
    else if (pred[i] === 1 || labels[i] === 1) wrong++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + wrong);
}

describe("runKernelJob with a custom task", () => {
  it("writes the task's metric into meta.json and the solver scores with it", async () => {
    const out = join(root, "kernels");
    const meta = await runKernelJob({
      model: MODEL,
      task: taskFile,
      splitDir,
      formulas: ["sgd"],
      out,
      cacheDir: false,
      quiet: true,
    });
    expect(meta.metric).toBe("f1");
    expect(readKernelMeta(out).metric).toBe("f1");
    // The plan actually used is recorded, the default memory budget resolved.
    expect(meta.plan.memory_bytes).toBeGreaterThan(0);
    expect(meta.plan.strategy).toBe("auto");
    expect(meta.flags.limit_eval).toBeNull();

    const { result, predictions } = await solveKernelDir(out, { formula: "sgd", solver: "lstsq" });
    expect(result.metric).toBe("f1");
    for (const split of ["dev", "test"] as const) {
      const labels = readNpy(join(out, `labels.${split}.npy`)).data as Int32Array;
      const m = result[split]!;
      expect(m.metric).toBe("f1");
      expect(m.f1).toBeCloseTo(f1(predictions[split]!, labels), 12);
      expect(m.score).toBe(m.f1);
    }
  }, 120_000);

  it("takes a loaded task with overrides (the CLI's --first-sent-limit) and records what it ran", async () => {
    const out = join(root, "kernels-short");
    const task = { ...loadTask(taskFile), firstSentLimit: 2 };
    const meta = await runKernelJob({
      model: MODEL,
      task,
      splitDir,
      formulas: ["sgd"],
      evalSplits: ["dev"],
      limitEval: 2,
      out,
      cacheDir: false,
      quiet: true,
    });
    expect(meta.splits).toEqual({ train: 6, dev: 2 });
    expect(meta.flags).toMatchObject({ eval_splits: ["dev"], limit_eval: 2 });
    const lengths = (dir: string) =>
      readFileSync(join(dir, "inputs.train.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).input_ids.length as number);
    const full = lengths(join(root, "kernels"));
    const short = lengths(out);
    // Only the sentence's tokens vary between examples, and at most 2 of them are kept.
    short.forEach((n, i) => {
      expect(n).toBeLessThanOrEqual(full[i]);
    });
    expect(Math.max(...short) - Math.min(...short)).toBeLessThanOrEqual(2);
    expect(Math.max(...short)).toBeLessThan(Math.max(...full));
  }, 120_000);
});
