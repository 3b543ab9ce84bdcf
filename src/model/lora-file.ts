/**
 * The one reader/writer of LoRA adapter files in a checkpoint directory (docs/no-prompt-and-lora.md): the adapters
 * are stored beside the Hugging Face layout, not in model.safetensors — `lora_adapters.safetensors` (float32
 * `….query.lora_A` [r, in] / `….query.lora_B` [out, r], loralib's names) and `lora_config.json` (r, alpha,
 * targets) — so the directory stays a valid base model and `entk lora merge` folds them in.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { LORA_TARGETS, type LoraSpec, type LoraTarget } from "./variant.ts";
import type { NewTensor } from "./variant-weights.ts";
import { readSafetensorsHeader, readTensorBytes, writeSafetensors } from "./weights/safetensors.ts";

export const LORA_ADAPTERS_FILE = "lora_adapters.safetensors";
export const LORA_CONFIG_FILE = "lora_config.json";

export async function writeLoraAdapters(dir: string, spec: LoraSpec, tensors: NewTensor[]): Promise<void> {
  await writeSafetensors(join(dir, LORA_ADAPTERS_FILE), tensors, { format: "pt" });
  await writeFileAtomic(
    join(dir, LORA_CONFIG_FILE),
    `${JSON.stringify({ r: spec.r, lora_alpha: spec.alpha, target_modules: spec.targets }, null, 2)}\n`,
  );
}

/** The adapters of a checkpoint directory, or undefined if it has none. Malformed files are errors naming the file. */
export function readLoraAdapters(dir: string): { spec: LoraSpec; tensors: NewTensor[] } | undefined {
  const cfgPath = join(dir, LORA_CONFIG_FILE);
  if (!existsSync(cfgPath)) return undefined;
  let raw: { r?: unknown; lora_alpha?: unknown; target_modules?: unknown };
  try {
    raw = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (err) {
    throw new Error(`${cfgPath}: not valid JSON (${(err as Error).message})`);
  }
  const targets = raw.target_modules;
  if (
    typeof raw.r !== "number" ||
    !Number.isInteger(raw.r) ||
    raw.r < 1 ||
    typeof raw.lora_alpha !== "number" ||
    !(raw.lora_alpha > 0) ||
    !Array.isArray(targets) ||
    targets.length === 0 ||
    !targets.every((t) => (LORA_TARGETS as readonly string[]).includes(t))
  )
    throw new Error(
      `${cfgPath}: expected {"r": integer >= 1, "lora_alpha": number > 0, "target_modules": [${LORA_TARGETS.map((t) => `"${t}"`).join(", ")}]}`,
    );
  const path = join(dir, LORA_ADAPTERS_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: has ${LORA_CONFIG_FILE} but no ${LORA_ADAPTERS_FILE}`);
  const header = readSafetensorsHeader(path);
  const tensors = header.entries.map((e) => {
    if (e.dtype !== "F32") throw new Error(`${path}: tensor ${e.name} is ${e.dtype}, expected F32`);
    const b = readTensorBytes(e, path);
    return { name: e.name, shape: e.shape, data: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice() };
  });
  return { spec: { r: raw.r, alpha: raw.lora_alpha, targets: targets as LoraTarget[] }, tensors };
}
