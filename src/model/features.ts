/**
 * Frozen features for the linear probe (docs/protocol.md §7.3): the input of the final prediction layer, in eval
 * mode — the mask feature h̃ in prompt mode, h_<s> (the last hidden state at position 0) without a prompt.
 */
import { buildFeaturesGraph, type FloatType } from "./arch/prompt-graph.ts";
import { lengthBatches, makeBatch, TOKEN_BUDGET } from "./prompt-model.ts";
import type { Device } from "./runtime/providers.ts";
import { getSession } from "./runtime/session.ts";
import type { PromptInput } from "./types.ts";
import { type ModelVariant, variantTag } from "./variant.ts";
import type { LoadedWeights } from "./weights/types.ts";

export interface FeatureOptions {
  /** noPrompt: h_<s>; otherwise the mask feature h̃ (LoRA adapters, if any, are applied). */
  variant?: ModelVariant;
  device?: Device;
  threads?: number;
  dtype?: FloatType;
}

/** Features [n, H] (row-major, float64) of every input, in input order. */
export async function modelFeatures(
  weights: LoadedWeights,
  labelWordIds: number[],
  inputs: PromptInput[],
  opts: FeatureOptions = {},
): Promise<Float64Array> {
  const cfg = weights.config;
  const dtype = opts.dtype ?? "float32";
  const variant = opts.variant ?? {};
  const which = variant.noPrompt ? "hidden" : "head";
  const spec = { weights, labelWordIds, binary: false, dtype, variant };
  const key = `${weights.hash}|${labelWordIds.join(",")}|${dtype}|${variantTag(variant)}|features:${which}`;
  const s = await getSession(
    key,
    () => {
      const g = buildFeaturesGraph(spec, which);
      return { build: (locate) => g.graph.toModel(g.outputs, locate), externalFiles: g.externalFiles };
    },
    { device: opts.device, threads: opts.threads, memPattern: false },
  );
  const H = cfg.hiddenSize;
  const out = new Float64Array(inputs.length * H);
  for (const idx of lengthBatches(inputs, Infinity, TOKEN_BUDGET.logits)) {
    const batch = makeBatch(
      idx.map((i) => inputs[i]),
      cfg,
      dtype,
    );
    const r = await s.run(batch.feeds);
    const f = r[s.outputNames[0]].data as Float32Array | Float64Array;
    idx.forEach((i, b) => {
      for (let h = 0; h < H; h++) out[i * H + h] = f[b * H + h];
    });
  }
  return out;
}
