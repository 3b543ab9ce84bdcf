import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initModel } from "../../src/model/init/init.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import { runFinetune } from "../../src/pipelines/finetune.ts";
import { loadFinetuneData } from "../../src/pipelines/prompted-splits.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import type { FinetuneModel } from "../../src/training/types.ts";
import { writePairSplit } from "../helpers/synthetic-data.ts";
import { bowModel } from "./bow-model.ts";

/** A made-up k-shot split in QNLI's layout: 16 examples per label in train and dev, 40 in test. */
const SPLIT = writePairSplit(mkdtempSync(join(tmpdir(), "entk-qnli-")), { labels: ["entailment", "not_entailment"] });

async function tinyModel() {
  const root = await mkdtemp(join(tmpdir(), "entk-run-"));
  const dir = join(root, "model");
  await mkdir(dir);
  await initModel({ arch: "roberta", preset: "tiny", seed: 3, out: dir, writeTokenizer: writeTokenizerFiles });
  return { root, dir };
}

describe("loadFinetuneData", () => {
  it("prompt-encodes a k-shot split with the task's template and label words", async () => {
    const { dir } = await tinyModel();
    const tok = await loadTokenizer(dir);
    const task = loadTask("QNLI");
    const d = loadFinetuneData(task, SPLIT, tok, { limitTest: 7 });
    expect(d.metric).toBe("acc");
    expect(d.train.length).toBe(32);
    expect(d.dev.length).toBe(32);
    expect(d.test.length).toBe(7);
    // labels = [entailment, not_entailment] → " Yes", " No"
    expect(d.labelWordIds).toEqual([tok.tokenToId("ĠYes"), tok.tokenToId("ĠNo")]);
    for (const e of [...d.train, ...d.test]) {
      expect(e.input.inputIds[0]).toBe(tok.clsId);
      expect(e.input.inputIds[e.input.maskPos]).toBe(tok.maskId);
      expect(e.input.inputIds.length).toBeLessThanOrEqual(task.maxLength);
    }
    // 16 examples per class in train
    expect(d.train.filter((e) => e.label === 1).length).toBe(16);
  });
});

describe("runFinetune", () => {
  it("fine-tunes from a model directory, writes a loadable HF checkpoint and the curve, evaluates test", async () => {
    const { root, dir } = await tinyModel();
    const out = join(root, "ft");
    let trained: FinetuneModel | undefined;
    const r = await runFinetune({
      task: "QNLI",
      splitDir: SPLIT,
      model: dir,
      createModel: (w, ids) => (trained = bowModel(w, ids)),
      optimizer: "adam",
      lr: 0.05,
      batchSize: 8,
      steps: 8,
      evalEvery: 4,
      seed: 42,
      outDir: out,
      limitTest: 20,
      quiet: true,
    });
    expect(r.task).toBe("QNLI");
    expect(r.weightsHash).toEqual(expect.any(String));
    expect(r.test!.acc).toBeGreaterThanOrEqual(0);
    expect([4, 8]).toContain(r.bestStep);
    const curve = readFileSync(join(out, "curve.jsonl"), "utf8").trim().split("\n");
    expect(curve.length).toBe(8);
    for (const f of ["config.json", "tokenizer.json", "model.safetensors"])
      expect(existsSync(join(out, "best", f))).toBe(true);
    // the checkpoint is an ordinary model directory: a model built from it predicts exactly like the tuned one
    const tuned = await loadWeightsFromDir(join(out, "best"));
    const task = loadTask("QNLI");
    const tok = await loadTokenizer(join(out, "best"));
    const data = loadFinetuneData(task, SPLIT, tok, { limitTest: 20 });
    const reloaded = bowModel(tuned, data.labelWordIds);
    const base = bowModel(await loadWeightsFromDir(dir), data.labelWordIds);
    const inputs = data.dev.map((e) => e.input);
    const zTuned = await reloaded.logits(inputs);
    expect(zTuned).not.toEqual(await base.logits(inputs));
    expect(zTuned).toEqual(await trained!.logits(inputs)); // the run ends holding the best checkpoint's parameters
    // rerunning returns the stored result of the finished run (same best checkpoint, so same dev metric)
    const again = await runFinetune({
      ...{ task: "QNLI", splitDir: SPLIT, model: dir, createModel: bowModel, optimizer: "adam" as const },
      ...{ lr: 0.05, batchSize: 8, steps: 8, evalEvery: 4, seed: 42, outDir: out, limitTest: 20, quiet: true },
    });
    expect(again).toEqual(r);
  });
});
