/** Shared fixtures of the analyses tests: a tiny base model on disk and a perturbed checkpoint of it. */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { initModel } from "../../src/model/init/init.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { hfCheckpointIO, materializeParams } from "../../src/training/hf-checkpoint.ts";
import { rand } from "../model/graph/harness.ts";

export const RTE_SPLIT = join(import.meta.dirname, "../../datasets/k-shot-1k-test/RTE/16-13");

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
