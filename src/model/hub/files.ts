import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TOKENIZER_FILES } from "../../tokenizer/load.ts";
import { pytorchOnlyMessage, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from "../weights/checkpoint.ts";

/** Files entk takes from a model repo: config, weights (single or sharded) and the tokenizer files that exist. */
export const CONFIG_FILE = "config.json";

/**
 * From a repo's file list, the files to fetch before the shards: config.json, the weights file or index, and the
 * tokenizer files present. Throws for repos without config.json or without safetensors weights.
 */
export function filesToFetch(repo: string, available: string[]): { files: string[]; sharded: boolean } {
  const has = new Set(available);
  if (!has.has(CONFIG_FILE)) throw new Error(`${repo}: the repo has no ${CONFIG_FILE} at its root`);
  let weights: string;
  if (has.has(SAFETENSORS_FILE)) weights = SAFETENSORS_FILE;
  else if (has.has(SAFETENSORS_INDEX_FILE)) weights = SAFETENSORS_INDEX_FILE;
  else if (has.has("pytorch_model.bin") || has.has("pytorch_model.bin.index.json"))
    throw new Error(
      `${pytorchOnlyMessage(repo)}\n(download the repo with Python, convert it, and point entk at that directory)`,
    );
  else throw new Error(`${repo}: the repo has no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE}`);
  return {
    files: [CONFIG_FILE, weights, ...TOKENIZER_FILES.filter((f) => has.has(f))],
    sharded: weights === SAFETENSORS_INDEX_FILE,
  };
}

/** Shard file names listed by a downloaded model.safetensors.index.json. */
export function shardFiles(indexPath: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map?: unknown }).weight_map;
  } catch (err) {
    throw new Error(`${indexPath}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof map !== "object" || map === null) throw new Error(`${indexPath}: no "weight_map" object`);
  return [...new Set(Object.values(map as Record<string, string>))].sort();
}

/** Which of the files a model needs are missing from a (snapshot) directory; [] when it is complete. */
export function missingModelFiles(dir: string): string[] {
  if (!existsSync(dir)) return [CONFIG_FILE, SAFETENSORS_FILE];
  const missing = existsSync(join(dir, CONFIG_FILE)) ? [] : [CONFIG_FILE];
  if (existsSync(join(dir, SAFETENSORS_FILE))) return missing;
  const index = join(dir, SAFETENSORS_INDEX_FILE);
  if (!existsSync(index)) return [...missing, SAFETENSORS_FILE];
  return [...missing, ...shardFiles(index).filter((f) => !existsSync(join(dir, f)))];
}
