/**
 * The variants through the pipelines on the bundled tiny model and a 16-shot split of the bundled spam task: no-prompt + LoRA fine-tuning writes a
 * checkpoint with the classifier as named tensors and the adapters apart, `entk lora merge` folds them in with the
 * same outputs, and a no-prompt kernel job starts from the probe-initialized classifier.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/model/load.ts";
import { readLoraAdapters } from "../../src/model/lora-file.ts";
import { createPromptModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { withTensors } from "../../src/model/variant-weights.ts";
import { runFinetune } from "../../src/pipelines/finetune.ts";
import { runKernelJob } from "../../src/pipelines/kernel-job.ts";
import { loadPromptedSplits } from "../../src/pipelines/prompted-splits.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { engineModelFactory } from "../../src/training/engine-model.ts";
import { mergeLoraCheckpoint } from "../../src/training/variant-checkpoint.ts";
import { readNpy } from "../../src/util/npy.ts";
import { spamSplit } from "../analyses/fixtures.ts";

afterAll(releaseSessions);

const root = fileURLToPath(new URL("../../", import.meta.url));
const MODEL = join(root, "models/tiny-roberta");
let SPLIT: string;
beforeAll(async () => {
  SPLIT = await spamSplit(mkdtempSync(join(tmpdir(), "entk-variant-data-")));
});
const LORA = { r: 2, alpha: 4, targets: ["query", "value"] as ("query" | "value")[] };

describe("no-prompt + LoRA through the pipelines", () => {
  it("fine-tunes, checkpoints the classifier and the adapters apart, and merges to the same outputs", async () => {
    const out = mkdtempSync(join(tmpdir(), "entk-variant-ft-"));
    const variant = { noPrompt: true, lora: LORA };
    const r = await runFinetune({
      task: "spam",
      splitDir: SPLIT,
      model: MODEL,
      createModel: engineModelFactory({ threads: 1 }),
      optimizer: "adam",
      lr: 1e-2,
      batchSize: 4,
      steps: 3,
      evalEvery: 3,
      seed: 5,
      limitTest: 8,
      outDir: join(out, "ft"),
      quiet: true,
      variant,
    });
    expect(r.variant).toEqual(variant);
    const best = join(out, "ft", "best");
    const adapters = readLoraAdapters(best)!;
    expect(adapters.spec).toEqual(LORA);
    expect(adapters.tensors.some((t) => t.name.endsWith("lora_B") && t.data.some((v) => v !== 0))).toBe(true);
    const base = await loadModel(best);
    expect(base.tensors.get("classifier.weight")?.shape).toEqual([2, 16]);
    expect([...base.tensors.keys()].some((n) => n.includes("lora_"))).toBe(false);
    // The checkpoint as a LoRA model vs the merged plain model, both without a prompt.
    const task = loadTask("spam");
    const tok = await loadTokenizer(MODEL);
    const xs = loadPromptedSplits(task, SPLIT, tok, { splits: ["dev"], prompt: false }).splits.dev!.slice(0, 6);
    const lora = createPromptModel(withTensors(base, adapters.tensors), [], { variant, threads: 1 });
    await mergeLoraCheckpoint(best, join(out, "merged"));
    expect(existsSync(join(out, "merged", "lora_config.json"))).toBe(false);
    const merged = createPromptModel(await loadModel(join(out, "merged")), [], {
      variant: { noPrompt: true },
      threads: 1,
    });
    const a = await lora.logits(xs);
    const b = await merged.logits(xs);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  }, 120_000);

  it("a no-prompt kernel job starts from the probe-initialized classifier (opposite binary rows), meta records the variant", async () => {
    const out = mkdtempSync(join(tmpdir(), "entk-variant-k-"));
    const meta = await runKernelJob({
      model: MODEL,
      task: "spam",
      splitDir: SPLIT,
      formulas: ["sgd"],
      limitEval: 8,
      out,
      cacheDir: false,
      quiet: true,
      variant: { noPrompt: true },
    });
    expect(meta.flags.variant).toEqual({ noPrompt: true });
    expect(meta.C).toBe(2);
    const inputs = readFileSync(join(out, "inputs.train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(inputs.every((x) => x.mask_pos === 0)).toBe(true);
    const f0 = readNpy(join(out, "logits.train.npy")).data as Float32Array;
    // Binary probe split: the two classifier outputs are opposite (rows [−w/2, +w/2], biases [−b/2, +b/2]).
    for (let i = 0; i < inputs.length; i++) expect(f0[2 * i]).toBeCloseTo(-f0[2 * i + 1], 5);
    const K = readNpy(join(out, "kernel.sgd.train.npy")).data as Float64Array;
    const n = inputs.length;
    // Symmetric train kernel: K[i,c,j,d] = K[j,d,i,c].
    for (let i = 0; i < n; i += 5)
      for (let j = 0; j < n; j += 7)
        expect(K[((i * 2 + 0) * n + j) * 2 + 1]).toBeCloseTo(K[((j * 2 + 1) * n + i) * 2 + 0], 6);
  }, 120_000);
});
