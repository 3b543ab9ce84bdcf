import { createTrainableModel, type TrainableModelOptions } from "../model/prompt-model.ts";
import { checkOutputs } from "../model/variant.ts";
import type { FinetuneModelFactory } from "./types.ts";

/**
 * The engine's trainable prompt model (src/model: cross-entropy over the C label-word logits at the mask,
 * dropout from config.json with masks drawn from the step's seed, dense gradients of every used parameter but
 * the word embeddings and the decoder, whose gradients come as their touched rows) as
 * the training layer's FinetuneModel.
 */
export function engineModelFactory(
  opts: TrainableModelOptions & {
    dtype?: "float32";
    /** false: train in eval mode (no dropout). */
    dropout?: boolean;
  } = {},
): FinetuneModelFactory {
  const { dropout = true, ...rest } = opts;
  return (weights, labelWordIds, variant) => {
    const m = createTrainableModel(weights, labelWordIds, { ...rest, sparseGrads: true, variant });
    return {
      numLabels: checkOutputs(weights, labelWordIds, variant ?? {}),
      params: m.params,
      logits: (inputs) => m.logits(inputs),
      lossAndGrad: (inputs, labels, o) => m.lossAndGrad(inputs, Array.from(labels), dropout ? o : {}),
    };
  };
}
