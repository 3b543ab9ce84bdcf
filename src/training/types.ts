import type { PromptInput } from "../model/types.ts";
import type { ModelVariant } from "../model/variant.ts";
import type { LoadedWeights } from "../model/weights/types.ts";

/** One training/evaluation example: a tokenized prompt and its class index (the label-word index, 0..C-1). */
export interface LabeledExample {
  input: PromptInput;
  label: number;
}

/** What one training step gets back from the model: the mean batch loss and ∂loss/∂θ by parameter name. */
export interface FinetuneLossAndGrad {
  loss: number;
  /**
   * Gradients by HF parameter name. A parameter that is absent has no gradient (torch's `grad is None`, e.g. the
   * pooler in prompt mode): the optimizers skip it entirely (no weight decay, no moment update) and it does not
   * enter the clipping norm, as torch does. The trainer may modify these arrays in place (clipping, sign).
   */
  grads: Map<string, Float32Array>;
  /**
   * Row-sparse gradients by parameter name (the word embeddings and the decoder: only the batch's tokens and the
   * label words have nonzero rows). A parameter here is not in `grads`; its other rows have gradient exactly 0
   * (they still get weight decay and, with AdamW, moment decay, exactly as a dense zero gradient would).
   */
  sparse?: Map<string, SparseGrad>;
}

/** A gradient that is zero outside `rows` (sorted, distinct row indices); `values` is [rows.length, width]. */
export interface SparseGrad {
  rows: Int32Array;
  width: number;
  values: Float32Array;
}

/**
 * The trainable prompt model the fine-tuning layer drives (implemented by the engine, src/model). Loss is the
 * cross-entropy over the C label-word logits at the mask (also for binary tasks), averaged over the batch, with
 * dropout active and its masks drawn from `dropoutSeed`.
 */
export interface FinetuneModel {
  /** Number of labels (= outputs per example C: one per label word). */
  readonly numLabels: number;
  /** Live parameter values by HF name. Optimizers update these arrays in place; the model must read them live. */
  readonly params: Map<string, Float32Array>;
  lossAndGrad(
    inputs: PromptInput[],
    labels: ArrayLike<number>,
    opts: { dropoutSeed: number },
  ): Promise<FinetuneLossAndGrad>;
  /** Eval-mode (no dropout) label-word logits, row-major [inputs.length, C]. */
  logits(inputs: PromptInput[]): Promise<Float32Array>;
}

/**
 * Writes and reads a model checkpoint directory. The CLI plugs in the Hugging Face layout writer (config.json,
 * tokenizer files, model.safetensors with the original names); tests may use anything that round-trips.
 */
export interface CheckpointIO {
  /** Write `params` as a complete checkpoint into `dir` (an empty directory that exists). */
  save(dir: string, params: Map<string, Float32Array>): Promise<void>;
  /** Read the parameters of a checkpoint written by `save`. */
  load(dir: string): Promise<Map<string, Float32Array>>;
}

/**
 * Builds the trainable prompt model from loaded weights and the label-word ids (the engine's
 * `createTrainableModel`). Its `params` must be fresh arrays (the run updates them in place) named as in
 * `weights.tensors`, so checkpoints keep the original names.
 */
export type FinetuneModelFactory = (
  weights: LoadedWeights,
  labelWordIds: number[],
  /** No-prompt classifier and/or LoRA adapters (src/model/variant.ts). */
  variant?: ModelVariant,
) => FinetuneModel | Promise<FinetuneModel>;
