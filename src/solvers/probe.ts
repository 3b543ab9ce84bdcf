/**
 * The linear probe on a model's frozen features (docs/protocol.md §7.3, docs/no-prompt-and-lora.md): fitted on
 * the training set, it is a method of its own (`probe`) and initializes the no-prompt classifier.
 */
import { modelFeatures } from "../model/features.ts";
import type { Device } from "../model/runtime/providers.ts";
import type { PromptInput } from "../model/types.ts";
import { CLASSIFIER, classifierRows, type ModelVariant } from "../model/variant.ts";
import { withLora, withTensors } from "../model/variant-weights.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { type MultinomialModel, probeClassifier, probeFit, probeScores } from "./multinomial.ts";

export interface ProbeOptions {
  device?: Device;
  threads?: number;
}

/** Fit the probe on the features of labelled training inputs (K classes). */
export async function fitProbe(
  weights: LoadedWeights,
  labelWordIds: number[],
  train: { input: PromptInput; label: number }[],
  K: number,
  variant: ModelVariant,
  opts: ProbeOptions = {},
): Promise<MultinomialModel> {
  const X = await modelFeatures(
    weights,
    labelWordIds,
    train.map((e) => e.input),
    { ...opts, variant },
  );
  return probeFit(
    X,
    train.map((e) => e.label),
    K,
  );
}

/** The probe's class scores [n, K] on inputs (same features as the fit). */
export async function probePredict(
  m: MultinomialModel,
  weights: LoadedWeights,
  labelWordIds: number[],
  inputs: PromptInput[],
  variant: ModelVariant,
  opts: ProbeOptions = {},
): Promise<Float64Array> {
  return probeScores(m, await modelFeatures(weights, labelWordIds, inputs, { ...opts, variant }));
}

/**
 * The weights a variant runs on: LoRA adapters added (A seeded by `loraSeed`, B = 0; adapters the weights already
 * hold are kept), and without a prompt the classifier set from the probe on the training set — unless the weights
 * already hold a K-row classifier (a no-prompt checkpoint), which is used as it is.
 */
export async function variantWeights(
  weights: LoadedWeights,
  variant: ModelVariant,
  train: { input: PromptInput; label: number }[],
  K: number,
  opts: ProbeOptions & { loraSeed?: number } = {},
): Promise<{ weights: LoadedWeights; probe?: MultinomialModel }> {
  let w = variant.lora ? withLora(weights, variant.lora, opts.loraSeed ?? 0) : weights;
  if (!variant.noPrompt) return { weights: w };
  const have = classifierRows(w);
  if (have !== undefined) {
    if (have !== K) throw new Error(`the weights' classifier has ${have} rows, the task has ${K} classes`);
    return { weights: w };
  }
  const probe = await fitProbe(w, [], train, K, { lora: variant.lora, noPrompt: true }, opts);
  const { weight, bias } = probeClassifier(probe);
  const H = w.config.hiddenSize;
  w = withTensors(w, [
    { name: CLASSIFIER.weight, shape: [K, H], data: weight },
    { name: CLASSIFIER.bias, shape: [K], data: bias },
  ]);
  return { weights: w, probe };
}
