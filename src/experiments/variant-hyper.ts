import { LORA_TARGETS, type LoraTarget, type ModelVariant } from "../model/variant.ts";
import type { HyperValue } from "./jobs.ts";

/**
 * The model variant a job's hyperparameters ask for (config keys noPrompt, loraR, loraAlpha — default r —,
 * loraTargets — default "query,value"; docs/no-prompt-and-lora.md).
 */
export function variantOfHyper(h: Record<string, HyperValue>): ModelVariant {
  const out: ModelVariant = {};
  if (h.noPrompt === true) out.noPrompt = true;
  if (typeof h.loraR === "number") {
    const targets = typeof h.loraTargets === "string" ? (h.loraTargets.split(",") as LoraTarget[]) : [...LORA_TARGETS];
    out.lora = { r: h.loraR, alpha: typeof h.loraAlpha === "number" ? h.loraAlpha : h.loraR, targets };
  }
  return out;
}
