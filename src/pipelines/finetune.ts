import { type LoadModelOptions, loadModel } from "../model/load.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { hfCheckpointIO } from "../training/hf-checkpoint.ts";
import { type FinetuneOptions, type FinetuneResult, finetune } from "../training/trainer.ts";
import type { FinetuneModelFactory } from "../training/types.ts";
import { loadFinetuneData } from "./prompted-splits.ts";

export interface RunFinetuneOptions
  extends Omit<FinetuneOptions, "model" | "train" | "dev" | "test" | "metric" | "checkpointIO" | "record"> {
  /** Task name (prompts/<task>.json) or a loaded task definition. */
  task: string | TaskDef;
  /** A k-shot split directory holding the task's train/dev/test files. */
  splitDir: string;
  /** Model directory or Hugging Face repo id. */
  model: string;
  createModel: FinetuneModelFactory;
  loadOptions?: LoadModelOptions;
  /** Evaluate a seeded subsample of N test examples, the same for every seed (`subsample` in src/data). */
  limitTest?: number;
  /** Skip malformed data rows (each reported through `onSkip`) instead of failing. */
  skipBadRows?: boolean;
  onSkip?: (message: string) => void;
  /** Extra fields for the result record. */
  record?: Record<string, unknown>;
}

/**
 * `entk finetune` as a library call: load the model and tokenizer, prompt-encode the split, fine-tune with
 * dev-based model selection, save the best checkpoint in the Hugging Face layout and evaluate it on test.
 */
export async function runFinetune(o: RunFinetuneOptions): Promise<FinetuneResult> {
  const { task: taskArg, splitDir, model: modelId, createModel, loadOptions, limitTest, record, ...rest } = o;
  const { skipBadRows, onSkip, ...train } = rest;
  const weights = await loadModel(modelId, loadOptions);
  const tok = await loadTokenizer(weights.source.dir);
  const task = typeof taskArg === "string" ? loadTask(taskArg) : taskArg;
  const data = loadFinetuneData(task, splitDir, tok, { limitTest, skipBadRows, onSkip });
  const model = await createModel(weights, data.labelWordIds);
  return finetune({
    ...train,
    model,
    train: data.train,
    dev: data.dev,
    test: data.test,
    metric: data.metric,
    checkpointIO: hfCheckpointIO(weights),
    record: {
      task: task.name,
      template: task.template,
      mapping: task.mapping,
      splitDir,
      model: { id: modelId, ...(weights.source.revision ? { revision: weights.source.revision } : {}) },
      weightsHash: weights.hash,
      ...(record ?? {}),
    },
  });
}
