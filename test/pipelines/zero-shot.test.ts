/**
 * Zero-shot prompting (src/pipelines/zero-shot.ts), the one implementation behind the sweep's `zero-shot` method and
 * the entk-mini model card: its accuracy, most-predicted share and margin AUC against tfjs's independent forward of
 * the same prompts, scored here by hand.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/model/load.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { runZeroShot } from "../../src/pipelines/baselines.ts";
import { loadPromptedSplits } from "../../src/pipelines/prompted-splits.ts";
import { zeroShot } from "../../src/pipelines/zero-shot.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { writeSentenceSplit } from "../helpers/synthetic-data.ts";
import { tfParams, tfPromptF } from "../model/reference-tf.ts";

const MODEL = join(import.meta.dirname, "../../models/tiny-roberta");
const WORDS = ["a great movie", "terrible acting", "it was fine", "great fun , great cast", "dull", "lovely", "so bad"];
const SENTS = {
  train: WORDS.slice(0, 4),
  dev: WORDS.slice(2),
  test: [...WORDS, ...WORDS.map((w) => `${w} , really`), "not great at all", "terrible fun", "a dull movie"],
};

let root: string;
let splitDir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "entk-zero-shot-"));
  splitDir = writeSentenceSplit(join(root, "split"), SENTS);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  releaseSessions();
});

describe("zero-shot prompting", () => {
  it("scores argmax over the label words, the most-predicted share and the margin AUC as tfjs's forward implies", async () => {
    const w = await loadModel(MODEL);
    const tok = await loadTokenizer(MODEL);
    const task = loadTask("SST-2");
    const r = await zeroShot(w, tok, task, splitDir, "test");

    const data = loadPromptedSplits(task, splitDir, tok, { splits: ["test"], nonEmpty: true });
    const xs = data.splits.test!;
    const params = tfParams(w);
    const f = xs.map((x) => Array.from(tfPromptF(w, params, x, data.labelWordIds, false).dataSync()));
    const pred = f.map((z) => (z[1] > z[0] ? 1 : 0));
    const labels = xs.map((x) => x.label);
    expect(r.n).toBe(SENTS.test.length);
    expect(r.acc).toBeCloseTo(pred.filter((p, i) => p === labels[i]).length / xs.length, 12);
    const ones = pred.filter((p) => p === 1).length;
    expect(r.topClassShare).toBeCloseTo(Math.max(ones, xs.length - ones) / xs.length, 12);
    // AUC by counting (positive, negative) pairs; the margins must differ by more than the engines' rounding
    // (~1e-6 here) for the pairs' order to be the same in both.
    const margin = f.map((z) => z[1] - z[0]);
    const gaps = margin.flatMap((a, i) => margin.slice(i + 1).map((b) => Math.abs(a - b)));
    expect(Math.min(...gaps)).toBeGreaterThan(2e-5);
    let good = 0;
    let pairs = 0;
    for (let i = 0; i < xs.length; i++)
      for (let j = 0; j < xs.length; j++)
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          good += margin[i] > margin[j] ? 1 : 0;
        }
    expect(r.marginAuc).toBeCloseTo(good / pairs, 12);

    // The sweep's baseline reports the same test accuracy through this function.
    const b = await runZeroShot({ model: MODEL, task, splitDir });
    expect(b.test).toEqual({ acc: r.acc });
  });
});
