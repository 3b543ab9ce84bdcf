/** Shared fixtures of the analyses tests: a tiny base model on disk and a perturbed checkpoint of it. */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { generateKShot } from "../../src/data/kshot.ts";
import { initModel } from "../../src/model/init/init.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { hfCheckpointIO, materializeParams } from "../../src/training/hf-checkpoint.ts";
import { rand } from "../model/graph/harness.ts";

/** A 16-shot split (seed 13) of the bundled `spam` task, written under `root` by LM-BFF's sampler. */
export async function spamSplit(root: string): Promise<string> {
  const task = loadTask("spam");
  await generateKShot({
    dataDir: join(import.meta.dirname, "../../datasets/original"),
    outDir: root,
    k: 16,
    seeds: [13],
    mode: "k-shot",
    tasks: [{ name: task.name, layout: task.data }],
  });
  return join(root, "k-shot", "spam", "16-13");
}

/** A tiny base model and a "fine-tuned" checkpoint θ₀ + τ with a random τ of scale `scale` on every parameter. */
export async function baseAndCheckpoint(root: string, scale: number) {
  const modelDir = join(root, "base");
  await mkdir(modelDir);
  await initModel({ arch: "roberta", preset: "tiny", seed: 3, out: modelDir, writeTokenizer: writeTokenizerFiles });
  const base = await loadWeightsFromDir(modelDir);
  const params = materializeParams(base);
  let k = 0;
  for (const [, a] of params) {
    const r = rand(a.length, 900 + ++k, scale);
    for (let i = 0; i < a.length; i++) a[i] += r[i];
  }
  const ckptDir = join(root, "ckpt");
  await mkdir(ckptDir);
  await hfCheckpointIO(base).save(ckptDir, params);
  return { modelDir, ckptDir, base };
}
