/**
 * The linear probe on a model's frozen features (docs/protocol.md §7.3, docs/no-prompt-and-lora.md): fitted on
 * the training set, it is a method of its own (`probe`) and initializes the no-prompt classifier
 * (src/pipelines/variant.ts).
 */
import { modelFeatures } from "../model/features.ts";
import type { Device } from "../model/runtime/providers.ts";
import type { PromptInput } from "../model/types.ts";
import type { ModelVariant } from "../model/variant.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { type MultinomialModel, probeFit, probeScores } from "./multinomial.ts";

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
