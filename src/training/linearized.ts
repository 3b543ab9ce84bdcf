/**
 * Linearized fine-tuning (docs/linearization.md): the trainer drives f_lin(x; θ₀ + τ) = f(x; θ₀) + J·τ exactly as
 * it drives the network (same optimizers, schedule, dev selection); checkpoints store θ₀ + τ in the Hugging Face
 * layout plus a card saying they are to be evaluated linearized around the base model.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLinearizedModel } from "../model/linearized-model.ts";
import type { TrainableModelOptions } from "../model/trainable-model.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import type { CheckpointIO, FinetuneModelFactory } from "./types.ts";

/** File name of the card a linearized checkpoint carries (JSON; a README.md says the same in words). */
export const LINEARIZED_CARD = "entk-linearized.json";

/** The linearized prompt model as the trainer's FinetuneModel (no dropout; dense gradients). */
export function linearizedModelFactory(
  opts: Omit<TrainableModelOptions, "sparseGrads" | "dtype"> = {},
): FinetuneModelFactory {
  return (weights, labelWordIds) => {
    const m = createLinearizedModel(weights, labelWordIds, opts);
    return {
      numLabels: labelWordIds.length,
      params: m.params as Map<string, Float32Array>,
      logits: async (inputs) => m.logits(inputs) as Promise<Float32Array>,
      lossAndGrad: async (inputs, labels) => {
        const r = await m.lossAndGrad(inputs, Array.from(labels));
        return { loss: r.loss, grads: r.grads as Map<string, Float32Array> };
      },
    };
  };
}

/** `inner` plus the linearization card: θ₀'s directory and weights hash, and how to evaluate the checkpoint. */
export function linearizedCheckpointIO(base: LoadedWeights, inner: CheckpointIO): CheckpointIO {
  return {
    async save(dir, params) {
      await inner.save(dir, params);
      const card = {
        linearized: true,
        base: base.source.repoId ?? base.source.dir,
        base_weights_hash: base.hash,
        evaluate: "f_lin(x) = f(x; θ₀) + J_θ₀(x)·(θ − θ₀), θ = this checkpoint, θ₀ = base (entk linearize --alpha 1)",
      };
      await writeFile(join(dir, LINEARIZED_CARD), `${JSON.stringify(card, null, 2)}\n`);
      await writeFile(
        join(dir, "README.md"),
        "# Linearized fine-tuning checkpoint (entk)\n\nThese weights are θ = θ₀ + τ of a *linearized* model: " +
          `evaluate them as f(x; θ₀) + J_θ₀(x)·(θ − θ₀) around the base model \`${card.base}\` ` +
          `(weights hash ${base.hash}), e.g. \`entk linearize --model BASE --checkpoint THIS_DIR --alpha 1\`. ` +
          "Run as an ordinary network they give a different (non-linearized) model.\n",
      );
    },
    load: (dir) => inner.load(dir),
  };
}
