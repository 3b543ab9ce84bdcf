import type { ExampleGradFactors } from "../model/grad-factors.ts";
import type { PromptInput } from "../model/types.ts";
import { firstNonFinite } from "../model/weights/finite.ts";
import { sha256 } from "./cache.ts";
import type { FactorSource } from "./types.ts";

/** What the kernels need from a prompt model (the engine's PromptModel satisfies it). */
export interface GradientModel {
  readonly C: number;
  gradFactors(inputs: PromptInput[]): Promise<ExampleGradFactors[]>;
}

/**
 * Cache key of one example's gradient factors: the weights, the outputs (label words, binary mode), and the
 * tokenized input. Identical inputs give identical keys, so e.g. the test set shared by all seeds' splits is
 * differentiated once.
 */
export function exampleKey(modelKey: { weightsHash: string; labelWordIds: number[]; binary: boolean }, x: PromptInput) {
  return sha256(
    JSON.stringify({
      v: 1,
      w: modelKey.weightsHash,
      l: modelKey.labelWordIds,
      b: modelKey.binary,
      ids: Array.from(x.inputIds),
      m: x.maskPos,
    }),
  );
}

/** A factor source that runs the model's backward pass on demand, with per-example keys and lengths. */
export function modelFactorSource(
  model: GradientModel,
  inputs: readonly PromptInput[],
  modelKey: { weightsHash: string; labelWordIds: number[]; binary: boolean },
): FactorSource {
  return {
    size: inputs.length,
    tokens: inputs.map((x) => x.inputIds.length),
    keys: inputs.map((x) => exampleKey(modelKey, x)),
    load: async (start, end) => {
      const got = await model.gradFactors(inputs.slice(start, end));
      got.forEach((ex, i) => {
        const bad = nonFiniteFactor(ex);
        if (bad) throw new Error(`the gradient of example ${start + i} w.r.t. ${bad} is not finite (NaN or Inf)`);
      });
      return got;
    },
  };
}

/** The parameter whose gradient factors hold a NaN or ±Inf, if any (a non-finite kernel is never written). */
export function nonFiniteFactor(ex: ExampleGradFactors): string | undefined {
  for (const l of ex.linears) if (firstNonFinite(l.X) >= 0 || firstNonFinite(l.delta) >= 0) return l.weight;
  for (const d of ex.dense) if (firstNonFinite(d.values) >= 0) return d.param;
  for (const sp of ex.sparse) if (firstNonFinite(sp.values) >= 0) return sp.param;
  return undefined;
}
