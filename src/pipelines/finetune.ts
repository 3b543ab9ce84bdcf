import { type LoadModelOptions, loadModel } from "../model/load.ts";
import type { ModelVariant } from "../model/variant.ts";
import { findNonFiniteWeight } from "../model/weights/finite.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { linearizedCheckpointIO } from "../training/linearized.ts";
import { type FinetuneOptions, type FinetuneResult, finetune } from "../training/trainer.ts";
import type { FinetuneModelFactory } from "../training/types.ts";
import { variantCheckpointIO } from "../training/variant-checkpoint.ts";
import { loadFinetuneData } from "./prompted-splits.ts";
import { variantWeights } from "./variant.ts";

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
  /**
   * The model `createModel` builds is the linearized one (training/linearized.ts): method `ft-lin:<optimizer>`,
   * `linearized: true` in the record, and checkpoints carry the linearization card.
   */
  linearized?: boolean;
  /**
   * No prompt (classifier on h_<s>, initialized by the linear probe) and/or LoRA (only the adapters and the heads
   * train; A seeded by `seed`); docs/no-prompt-and-lora.md.
   */
  variant?: ModelVariant;
}

/**
 * `entk finetune` as a library call: load the model and tokenizer, prompt-encode the split, fine-tune with
 * dev-based model selection, save the best checkpoint in the Hugging Face layout and evaluate it on test.
 */
export async function runFinetune(o: RunFinetuneOptions): Promise<FinetuneResult> {
  const {
    task: taskArg,
    splitDir,
    model: modelId,
    createModel,
    loadOptions,
    limitTest,
    record,
    linearized,
    variant,
    ...rest
  } = o;
  const { skipBadRows, onSkip, ...train } = rest;
  const weights = await loadModel(modelId, loadOptions);
  const bad = findNonFiniteWeight(weights);
  if (bad)
    throw new Error(
      `${weights.source.dir}: weight tensor ${bad.name} holds ${bad.value} (element ${bad.index}); cannot fine-tune it`,
    );
  const tok = await loadTokenizer(weights.source.dir);
  const task = typeof taskArg === "string" ? loadTask(taskArg) : taskArg;
  const v = variant ?? {};
  if (linearized && (v.noPrompt || v.lora))
    throw new Error("linearized fine-tuning of the no-prompt or LoRA variants is not supported");
  const data = loadFinetuneData(task, splitDir, tok, { limitTest, skipBadRows, onSkip, prompt: !v.noPrompt });
  const { weights: vw } = await variantWeights(weights, v, data.train, task.labels.length, { loraSeed: o.seed });
  const model = await createModel(vw, data.labelWordIds, v);
  return finetune({
    ...train,
    model,
    train: data.train,
    dev: data.dev,
    test: data.test,
    metric: data.metric,
    checkpointIO: linearized ? linearizedCheckpointIO(weights, variantCheckpointIO(vw, v)) : variantCheckpointIO(vw, v),
    ...(linearized ? { method: `ft-lin:${o.optimizer}` } : {}),
    record: {
      task: task.name,
      template: task.template,
      mapping: task.mapping,
      splitDir,
      model: { id: modelId, ...(weights.source.revision ? { revision: weights.source.revision } : {}) },
      weightsHash: vw.hash,
      ...(linearized ? { linearized: true } : {}),
      ...(v.noPrompt || v.lora ? { variant: v } : {}),
      ...(record ?? {}),
    },
  });
}
