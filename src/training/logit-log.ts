import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeNpy } from "../util/npy.ts";
import type { FinetuneModel, LabeledExample } from "./types.ts";

/** Where `finetune({ logLogitsEvery })` writes the eval-mode logits of `split` after `step` steps, [n, C] float32. */
export function logitLogPath(outDir: string, step: number, split: string): string {
  return join(outDir, "logits", `step-${step}.${split}.npy`);
}

/**
 * Eval-mode (no dropout) label-word logits of every split at the current parameters, one .npy per split
 * (`logitLogPath`): the trajectory `entk dynamics --compare` sets against the kernel's prediction.
 */
export async function logLogits(
  model: FinetuneModel,
  splits: Record<string, LabeledExample[]>,
  outDir: string,
  step: number,
  batchSize = 8,
): Promise<void> {
  await mkdir(join(outDir, "logits"), { recursive: true });
  const C = model.numLabels;
  for (const [split, xs] of Object.entries(splits)) {
    const out = new Float32Array(xs.length * C);
    for (let s = 0; s < xs.length; s += batchSize)
      out.set(await model.logits(xs.slice(s, s + batchSize).map((e) => e.input)), s * C);
    await writeNpy(logitLogPath(outDir, step, split), out, [xs.length, C]);
  }
}
