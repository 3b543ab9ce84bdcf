/**
 * The weights a model variant runs on (docs/no-prompt-and-lora.md): LoRA adapters added, and without a prompt the
 * classifier initialized by the linear probe on the training set. Used by the kernel and fine-tuning pipelines.
 */
import type { PromptInput } from "../model/types.ts";
import { CLASSIFIER, classifierRows, type ModelVariant } from "../model/variant.ts";
import { withLora, withTensors } from "../model/variant-weights.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import type { MultinomialModel } from "../solvers/multinomial.ts";
import { probeClassifier } from "../solvers/multinomial.ts";
import { fitProbe, type ProbeOptions } from "../solvers/probe.ts";

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
