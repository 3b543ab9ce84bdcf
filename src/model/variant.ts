/**
 * Model variants beside the prompt MLM (docs/no-prompt-and-lora.md):
 * - no prompt: f(x) = classifier(h_<s>), a linear layer [K, H] on the raw position-0 hidden state (no pooler, no
 *   tanh); the MLM head is not used;
 * - LoRA: low-rank adapters on the attention query and/or value projections, W x + (α/r)·B (A x), with
 *   A [r, in] and B [out, r] (loralib's layout and names `….query.lora_A` / `….query.lora_B`).
 * This module owns the names, shapes and the trainable subset; the graphs read them from here.
 */
import { type ModelNames, modelNames, parameterSpecs } from "./weights/params.ts";
import type { LoadedWeights, ModelConfig } from "./weights/types.ts";

export const LORA_TARGETS = ["query", "value"] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraSpec {
  r: number;
  alpha: number;
  /** Default: both, as the reference. */
  targets: LoraTarget[];
}

export interface ModelVariant {
  noPrompt?: boolean;
  lora?: LoraSpec;
}

/** HF names of the no-prompt classifier (RoBERTa's and BERT's sequence-classification layer are both `classifier`). */
export const CLASSIFIER = { weight: "classifier.weight", bias: "classifier.bias" } as const;

/** The adapter parameter names of a projection weight: `….query.weight` → `….query.lora_A` / `.lora_B`. */
export function loraNames(weight: string): { A: string; B: string } {
  const base = weight.replace(/\.weight$/, "");
  return { A: `${base}.lora_A`, B: `${base}.lora_B` };
}

export const isLoraParam = (name: string) => /\.lora_[AB]$/.test(name);
export const isClassifierParam = (name: string) => name === CLASSIFIER.weight || name === CLASSIFIER.bias;
/** The MLM head (`lm_head.*`, BERT's `cls.*`), unused in no-prompt mode. */
export const isMlmHeadParam = (name: string) => name.includes("head") || name.startsWith("cls.");

/** The projections a LoRA spec adapts, layer by layer: [weight name, dOut, dIn]. */
export function loraSites(
  names: ModelNames,
  cfg: ModelConfig,
  lora: LoraSpec,
): { weight: string; dOut: number; dIn: number }[] {
  const H = cfg.hiddenSize;
  return names.layers.flatMap((l) => lora.targets.map((t) => ({ weight: l[t].weight, dOut: H, dIn: H })));
}

/** Number of classifier rows (classes) held by the weights; undefined if there is no classifier. */
export function classifierRows(weights: LoadedWeights): number | undefined {
  return weights.tensors.get(CLASSIFIER.weight)?.shape[0];
}

/** Every parameter f uses in this variant, with its shape: the base model's (less the MLM head without a prompt), then the new ones. */
export function variantParamSpecs(
  cfg: ModelConfig,
  variant: ModelVariant,
  numLabels?: number,
): { name: string; shape: number[] }[] {
  const base = parameterSpecs(cfg).filter((s) => !(variant.noPrompt && isMlmHeadParam(s.name)));
  const extra: { name: string; shape: number[] }[] = [];
  if (variant.lora) {
    const { r } = variant.lora;
    for (const s of loraSites(modelNames(cfg), cfg, variant.lora)) {
      const n = loraNames(s.weight);
      extra.push({ name: n.A, shape: [r, s.dIn] }, { name: n.B, shape: [s.dOut, r] });
    }
  }
  if (variant.noPrompt) {
    if (!numLabels) throw new Error("no-prompt mode needs the number of labels (classifier rows)");
    extra.push(
      { name: CLASSIFIER.weight, shape: [numLabels, cfg.hiddenSize] },
      { name: CLASSIFIER.bias, shape: [numLabels] },
    );
  }
  return [...base, ...extra];
}

/**
 * Whether a parameter is trained (and enters the kernel) in this variant: everything used, or with LoRA only the
 * adapters, the MLM head and the classifier (the reference's `--apply_lora` subset, docs/protocol.md §4).
 */
export function isTrainable(name: string, variant: ModelVariant): boolean {
  if (!variant.lora) return true;
  return isLoraParam(name) || isMlmHeadParam(name) || isClassifierParam(name);
}

/** A short stable tag of the variant for cache keys and session signatures ("" for the prompt MLM). */
export function variantTag(variant: ModelVariant = {}): string {
  const parts: string[] = [];
  if (variant.noPrompt) parts.push("noprompt");
  if (variant.lora) parts.push(`lora:${variant.lora.r}:${variant.lora.alpha}:${variant.lora.targets.join(",")}`);
  return parts.join("|");
}

/** Number of classes K: the label words, or without a prompt the classifier's rows (label words ignored). */
export function checkOutputs(weights: LoadedWeights, labelWordIds: number[], variant: ModelVariant): number {
  if (variant.noPrompt) {
    const K = classifierRows(weights);
    if (!K)
      throw new Error("no-prompt mode: the weights have no classifier.weight (initialize it with the linear probe)");
    return K;
  }
  if (labelWordIds.length < 1) throw new Error("at least one label word is needed");
  for (const w of labelWordIds)
    if (!Number.isInteger(w) || w < 0 || w >= weights.config.vocabSize)
      throw new Error(`label word id ${w} is not an integer in [0, ${weights.config.vocabSize})`);
  return labelWordIds.length;
}
