/**
 * Checkpoints of the model variants (docs/no-prompt-and-lora.md): the Hugging Face layout of hf-checkpoint.ts, with
 * the no-prompt classifier as the named parameters `classifier.weight` / `classifier.bias` in model.safetensors and
 * LoRA adapters stored separately (src/model/lora-file.ts), so the directory is a complete base model and
 * `entk lora merge` can fold the adapters in.
 */
import { readLoraAdapters, writeLoraAdapters } from "../model/lora-file.ts";
import { isLoraParam, type ModelVariant } from "../model/variant.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { hfCheckpointIO, tensorValues } from "./hf-checkpoint.ts";
import type { CheckpointIO } from "./types.ts";

export function variantCheckpointIO(weights: LoadedWeights, variant: ModelVariant): CheckpointIO {
  const lora = variant.lora;
  if (!lora) return hfCheckpointIO(weights);
  const base: LoadedWeights = {
    ...weights,
    tensors: new Map([...weights.tensors].filter(([n]) => !isLoraParam(n))),
  };
  const hf = hfCheckpointIO(base);
  return {
    async save(dir, params) {
      await hf.save(dir, new Map([...params].filter(([n]) => !isLoraParam(n))));
      const adapters = [...weights.tensors.values()]
        .filter((t) => isLoraParam(t.name))
        .map((t) => ({ name: t.name, shape: t.shape, data: params.get(t.name) ?? tensorValues(t) }));
      await writeLoraAdapters(dir, lora, adapters);
    },
    async load(dir) {
      const params = await hf.load(dir);
      const a = readLoraAdapters(dir);
      if (!a) throw new Error(`${dir}: a LoRA checkpoint without lora_config.json`);
      for (const t of a.tensors) params.set(t.name, t.data);
      return params;
    },
  };
}
