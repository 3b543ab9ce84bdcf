/**
 * Issue 18 item 2: the cost model's predicted FLOPs (src/kernels/cost.ts) against the FLOPs a small real kernel job
 * runs, counted from onnxruntime's own profiles of every MatMul/Gemm node (test/helpers/ort-flops.ts), per phase.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Formula, Strategy } from "../../src/kernels/types.ts";
import { readModelConfig } from "../../src/model/weights/config.ts";
import { countOrtFlops } from "../helpers/ort-flops.ts";

const MODEL = join(import.meta.dirname, "../../models/tiny-roberta");
const WORDS = ["a", "great", "movie", "terrible", "acting", "fine", "fun", "cast", "dull", "lovely", "story", "bad"];
const SENTS = {
  // 40 train examples of 1-9 words: the train set loads in chunks of 32 and 8 (src/kernels/compute.ts).
  train: Array.from({ length: 40 }, (_, i) =>
    Array.from({ length: 1 + ((i * 7) % 9) }, (_, j) => WORDS[(i + 3 * j) % 12]).join(" "),
  ),
  dev: ["so terrible", "a movie", "fun", "great cast , fine acting and a lovely story"],
  test: ["great", "not great at all", "acting fine", "terrible fun", "a dull movie , really", "meh", "fine fine fine"],
};

let root: string;
let splitDir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "entk-cost-"));
  splitDir = join(root, "split");
  mkdirSync(splitDir);
  for (const [split, sents] of Object.entries(SENTS))
    writeFileSync(
      join(splitDir, `${split}.tsv`),
      `sentence\tlabel\n${sents.map((s, i) => `${s}\t${i % 2}`).join("\n")}\n`,
    );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function countedJob(name: string, formulas: Formula[], binary: boolean, strategy: Strategy) {
  // Fresh modules: every onnxruntime session of this job (engine and contraction graphs) is created, and so
  // profiled, while the counter is on.
  vi.resetModules();
  const { runKernelJob } = await import("../../src/pipelines/kernel-job.ts");
  const { releaseSessions } = await import("../../src/model/runtime/session.ts");
  const { kernelJobFlops } = await import("../../src/kernels/cost.ts");
  const counter = countOrtFlops();
  const out = join(root, name);
  try {
    await runKernelJob({
      model: MODEL,
      task: "GLUE-SST-2",
      splitDir,
      formulas,
      binary,
      strategy,
      out,
      cacheDir: false,
      quiet: true,
    });
  } finally {
    await releaseSessions();
  }
  const counted = counter.stop();
  const meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8"));
  const inputs = (split: string) =>
    readFileSync(join(out, `inputs.${split}.jsonl`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).input_ids.length);
  const predicted = kernelJobFlops({
    cfg: readModelConfig(MODEL),
    tokens: { train: inputs("train"), evals: { dev: inputs("dev"), test: inputs("test") } },
    nLabelWords: meta.label_word_ids.length,
    binary,
    formulas,
    strategy,
    evalBlock: meta.plan.eval_block,
    trainBlock: meta.plan.train_block,
    workBytes: meta.plan.work_bytes,
  });
  return { counted, predicted };
}

describe("kernel job FLOPs: predicted vs counted by onnxruntime's profiler", () => {
  for (const [name, formulas, binary, strategy] of [
    ["all-binary-auto", ["sgd", "signgd", "asymmetric_signgd"], true, "auto"],
    ["sgd-multi-gram", ["sgd"], false, "gram"],
    ["sign-multi-mat", ["signgd"], false, "materialize"],
  ] as [string, Formula[], boolean, Strategy][])
    it(`${name}`, async () => {
      const { counted, predicted } = await countedJob(name, formulas, binary, strategy);
      // Exact: the model predicts every GEMM the job runs, shape by shape.
      expect(counted).toEqual({
        forward: predicted.logits,
        backward: predicted.gradients,
        contraction: predicted.contraction,
      });
      expect(predicted.contraction).toBeGreaterThan(0);
    });
});
