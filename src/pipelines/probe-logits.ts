/**
 * Probe logits: the label-word logits at <mask> of fixed prompts (a task's template filled with given sentences).
 * A model card states them; a test recomputes them from the shipped weights, so that any change in what the model
 * computes (loader, engine, tokenizer) is caught.
 */
import { createPromptModel } from "../model/prompt-model.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { taskEncoder } from "../prompts/encode.ts";
import { loadTask } from "../prompts/task.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";

export interface Probe {
  task: string;
  texts: string[];
  /** The label-word logits (the card's values; filled by `probeLogits`). */
  logits?: number[];
}

/** Each probe with its logits computed by the float32 engine (eval mode). */
export async function probeLogits(weights: LoadedWeights, tok: EntkTokenizer, probes: Probe[]): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const p of probes) {
    const task = loadTask(p.task);
    const enc = taskEncoder(tok, task);
    const e = enc.encode({ texts: p.texts, label: task.labels[0], source: `probe ${p.task}` });
    const z = await createPromptModel(weights, enc.labelWordIds, { threads: 1 }).logits([
      { inputIds: e.inputIds, maskPos: e.maskPos },
    ]);
    out.push({ task: p.task, texts: p.texts, logits: Array.from(z) });
  }
  return out;
}
