/**
 * Checkpoints of the model variants (docs/no-prompt-and-lora.md): the Hugging Face layout of hf-checkpoint.ts, with
 * the no-prompt classifier as the named parameters `classifier.weight` / `classifier.bias` in model.safetensors and
 * LoRA adapters stored separately (src/model/lora-file.ts), so the directory is a complete base model and
 * `entk lora merge` can fold the adapters in.
 */
import { mkdir } from "node:fs/promises";
import { LORA_CONFIG_FILE, readLoraAdapters, writeLoraAdapters } from "../model/lora-file.ts";
import { isLoraParam, type ModelVariant } from "../model/variant.ts";
import { mergeLora, withTensors } from "../model/variant-weights.ts";
import { loadWeightsFromDir } from "../model/weights/checkpoint.ts";
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

/**
 * `entk lora merge`: a LoRA checkpoint directory (HF layout + adapters) → a plain model directory `out` whose
 * adapted projections hold W + (α/r)·B·A (every other tensor as it is). Returns the merged tensor names.
 */
export async function mergeLoraCheckpoint(dir: string, out: string): Promise<string[]> {
  const adapters = readLoraAdapters(dir);
  if (!adapters) throw new Error(`${dir}: no ${LORA_CONFIG_FILE} (not a LoRA checkpoint)`);
  const base = await loadWeightsFromDir(dir);
  const merged = mergeLora(withTensors(base, adapters.tensors), adapters.spec);
  const mergedBase = withTensors(base, merged);
  await mkdir(out, { recursive: true });
  await hfCheckpointIO(mergedBase).save(out, new Map());
  return merged.map((t) => t.name);
}
