import { existsSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, normalize, resolve } from "node:path";
import { readModelConfig } from "./config.ts";
import { bf16ToF32, f16ToF32, f64ToF32 } from "./convert.ts";
import { weightsHash } from "./hash.ts";
import {
  canonicalName,
  headNames,
  isKnownBuffer,
  optionalParameterSpecs,
  type ParamSpec,
  parameterSpecs,
  wordEmbeddingsName,
} from "./params.ts";
import { readSafetensorsHeader, readTensorBytes, type SafetensorsEntry } from "./safetensors.ts";
import type { LoadedWeights, ModelConfig, TensorRef } from "./types.ts";

export const SAFETENSORS_FILE = "model.safetensors";
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";

/** LoadedWeights plus what the loader did, for `entk model info` and logs. */
export interface LoadedCheckpoint extends LoadedWeights {
  /** Weight files read, relative to `source.dir`. */
  files: string[];
  /** Human-readable notes: converted dtypes, decoder-weight fallback, ignored tensors. */
  notes: string[];
}

export class CheckpointError extends Error {}

/** The message for directories that only hold PyTorch pickles: entk reads safetensors only (no pickle parsing). */
export function pytorchOnlyMessage(dir: string): string {
  return (
    `${dir}: only PyTorch weights (pytorch_model.bin) found; entk reads model.safetensors. Convert once with Python:\n` +
    `  python -c "from transformers import AutoModelForMaskedLM as M; M.from_pretrained('${dir}')` +
    `.save_pretrained('${dir}', safe_serialization=True)"\n` +
    "or, without transformers:\n" +
    `  python -c "import torch; from safetensors.torch import save_file; ` +
    `sd = torch.load('${join(dir, "pytorch_model.bin")}', map_location='cpu'); ` +
    `save_file({k: v.clone().contiguous() for k, v in sd.items()}, '${join(dir, SAFETENSORS_FILE)}', ` +
    `metadata={'format': 'pt'})"`
  );
}

interface Located {
  entry: SafetensorsEntry;
  path: string;
  /** The name as stored in the file (before legacy-name mapping). */
  stored: string;
}

/** Which weight files a model directory has: a single safetensors file, or the shards of an index. */
export function weightFiles(dir: string): { files: string[]; index?: Record<string, string> } {
  if (existsSync(join(dir, SAFETENSORS_FILE))) return { files: [SAFETENSORS_FILE] };
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  if (existsSync(indexPath)) {
    const fail = (msg: string): never => {
      throw new CheckpointError(`${indexPath}: ${msg}`);
    };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(indexPath, "utf8"));
    } catch (err) {
      fail(`not valid JSON (${(err as Error).message})`);
    }
    const map = (raw as { weight_map?: unknown })?.weight_map;
    if (typeof map !== "object" || map === null || Array.isArray(map))
      fail('expected an object with a "weight_map" of tensor name → shard file');
    const weightMap = map as Record<string, unknown>;
    for (const [name, file] of Object.entries(weightMap)) {
      if (typeof file !== "string" || !file.endsWith(".safetensors"))
        fail(`weight_map["${name}"] must name a .safetensors shard, got ${JSON.stringify(file)}`);
      const f = file as string;
      if (isAbsolute(f) || normalize(f).startsWith(".."))
        fail(`weight_map["${name}"]: shard path ${JSON.stringify(f)} leaves the model directory`);
    }
    const files = [...new Set(Object.values(weightMap) as string[])].sort();
    if (files.length === 0) fail("weight_map is empty");
    for (const f of files) if (!existsSync(join(dir, f))) fail(`shard ${f} is missing from ${dir}`);
    return { files, index: weightMap as Record<string, string> };
  }
  if (existsSync(join(dir, "pytorch_model.bin")) || existsSync(join(dir, "pytorch_model.bin.index.json")))
    throw new CheckpointError(pytorchOnlyMessage(dir));
  throw new CheckpointError(`${dir}: no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE} (not a model directory?)`);
}

/** Read every header and map canonical names to their location; checks the index against the shards. */
function locateTensors(dir: string, config: ModelConfig, files: string[], index?: Record<string, string>) {
  const found = new Map<string, Located>();
  for (const file of files) {
    const path = join(dir, file);
    const header = readSafetensorsHeader(path);
    for (const entry of header.entries) {
      if (index && index[entry.name] !== file)
        throw new CheckpointError(
          `${join(dir, SAFETENSORS_INDEX_FILE)}: tensor "${entry.name}" is stored in ${file} but the index says ` +
            `${index[entry.name] ?? "nothing"}`,
        );
      const name = canonicalName(entry.name, config);
      const prev = found.get(name);
      if (prev)
        throw new CheckpointError(
          `${path}: tensor "${entry.name}" duplicates "${prev.stored}" in ${prev.path} (both mean "${name}")`,
        );
      found.set(name, { entry, path, stored: entry.name });
    }
  }
  if (index)
    for (const [name, file] of Object.entries(index))
      if (!found.has(canonicalName(name, config)))
        throw new CheckpointError(
          `${join(dir, file)}: tensor "${name}" listed in ${SAFETENSORS_INDEX_FILE} is missing`,
        );
  return found;
}

/** A checkpoint tensor as a TensorRef: F32 referenced in place; F16/BF16/F64 converted to float32 in memory. */
function toTensorRef(spec: ParamSpec, loc: Located, notes: string[]): TensorRef {
  const { entry, path } = loc;
  const shown = loc.stored === spec.name ? `"${spec.name}"` : `"${loc.stored}" (read as "${spec.name}")`;
  if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i]))
    throw new CheckpointError(
      `${path}: tensor ${shown} has shape [${entry.shape}] but config.json implies [${spec.shape}]`,
    );
  const ref: TensorRef = { name: spec.name, shape: [...spec.shape] };
  switch (entry.dtype) {
    case "F32":
      // Symlinks resolved (Hub snapshots link into blobs/): ORT 1.30 resolves external data locations itself and
      // rejects any that end outside the .onnx file's directory, so graphs must be placed relative to the real file.
      ref.external = { path: realpathSync(path), offset: entry.offset, length: entry.length };
      return ref;
    case "F16":
      ref.data = f16ToF32(readTensorBytes(entry, path));
      break;
    case "BF16":
      ref.data = bf16ToF32(readTensorBytes(entry, path));
      break;
    case "F64":
      ref.data = f64ToF32(readTensorBytes(entry, path));
      break;
    default:
      throw new CheckpointError(
        `${path}: tensor ${shown} has dtype ${entry.dtype}; expected a float type (F32, F16, BF16 or F64)`,
      );
  }
  notes.push(`${spec.name}: ${entry.dtype} converted to float32 in memory`);
  return ref;
}

/**
 * Load and validate the prompt-MLM weights of a Hugging Face model directory (config.json + model.safetensors or
 * a sharded index). docs/protocol.md §4: the decoder weight is its own parameter — when the checkpoint lacks it, it
 * references the word-embedding bytes under its own name; `*.decoder.bias` is the same parameter as the head bias.
 */
export async function loadWeightsFromDir(
  dir: string,
  source: { repoId?: string; revision?: string } = {},
): Promise<LoadedCheckpoint> {
  const config = readModelConfig(dir);
  const { files, index } = weightFiles(dir);
  const found = locateTensors(dir, config, files, index);
  const notes: string[] = [];
  const tensors = new Map<string, TensorRef>();
  const head = headNames(config);
  const used = new Set<string>();

  // The two names of the head bias: keep one parameter, named `head.bias`.
  const bias = found.get(head.bias);
  const decBias = found.get(head.decoderBias);
  if (!bias && decBias) {
    found.set(head.bias, decBias);
    notes.push(`${head.bias}: read from "${decBias.stored}" (the same parameter)`);
  }
  used.add(head.decoderBias);
  // Tied checkpoints deduplicated the other way round (safetensors keeps the alphabetically first name of shared
  // tensors unless told otherwise): the word embeddings are the decoder's bytes.
  const emb = wordEmbeddingsName(config);
  const dec = found.get(head.decoderWeight);
  if (!found.has(emb) && dec) {
    found.set(emb, dec);
    notes.push(`${emb}: not in the checkpoint; read from "${dec.stored}" (tied weights saved once)`);
  }

  const missing: string[] = [];
  for (const spec of parameterSpecs(config)) {
    const loc = found.get(spec.name);
    const e = tensors.get(emb);
    if (loc) {
      tensors.set(spec.name, toTensorRef(spec, loc, notes));
      used.add(spec.name);
    } else if (spec.name === head.decoderWeight && e) {
      // Its own parameter (docs/protocol.md §4), initialized from the word-embedding bytes; kept in state-dict order.
      tensors.set(spec.name, {
        name: spec.name,
        shape: [...e.shape],
        ...(e.data ? { data: e.data.slice() } : {}),
        ...(e.external ? { external: { ...e.external } } : {}),
      });
      notes.push(`${spec.name}: not in the checkpoint; initialized from the word embeddings (untied copy)`);
    } else missing.push(spec.name);
  }
  if (missing.length > 0) {
    const hasHead = [...found.keys()].some((n) =>
      n.startsWith(config.modelType === "roberta" ? "lm_head." : "cls.predictions."),
    );
    throw new CheckpointError(
      `${join(dir, files[0])}${files.length > 1 ? ` (+${files.length - 1} shards)` : ""}: missing ${missing.length} ` +
        `tensor(s) of the ${config.modelType} MLM: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}` +
        (hasHead ? "" : ` — no masked-LM head found; entk needs a *ForMaskedLM checkpoint`),
    );
  }
  // The no-prompt classifier (a sequence-classification head, src/model/variant.ts): K rows, K from the file.
  const clsW = found.get("classifier.weight");
  const K = clsW?.entry.shape.length === 2 && clsW.entry.shape[1] === config.hiddenSize ? clsW.entry.shape[0] : 0;
  const optional = [
    ...optionalParameterSpecs(config),
    ...(K > 0
      ? [
          { name: "classifier.weight", shape: [K, config.hiddenSize], kind: "linear-weight" as const },
          { name: "classifier.bias", shape: [K], kind: "bias" as const },
        ]
      : []),
  ];
  for (const spec of optional) {
    const loc = found.get(spec.name);
    if (loc) {
      tensors.set(spec.name, toTensorRef(spec, loc, notes));
      used.add(spec.name);
    }
  }
  const ignored = [...found.keys()].filter((n) => !used.has(n) && !isKnownBuffer(n));
  if (ignored.length > 0)
    notes.push(`ignored ${ignored.length} tensor(s) the prompt MLM does not use: ${ignored.slice(0, 5).join(", ")}`);

  const hash = await weightsHash(
    config,
    files.map((f) => ({ name: f, path: join(dir, f) })),
  );
  return { config, tensors, hash, source: { dir: resolve(dir), ...source }, files, notes };
}
