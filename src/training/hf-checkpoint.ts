import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { loadWeightsFromDir, SAFETENSORS_FILE } from "../model/weights/checkpoint.ts";
import { modelConfigToJson } from "../model/weights/config.ts";
import { writeSafetensors } from "../model/weights/safetensors.ts";
import type { LoadedWeights, TensorRef } from "../model/weights/types.ts";
import { TOKENIZER_FILES } from "../tokenizer/load.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { CheckpointIO } from "./types.ts";

/** The float32 values of a loaded tensor: its in-memory data, or its bytes read from the referenced file. */
export function tensorValues(ref: TensorRef): Float32Array {
  if (ref.data) return ref.data;
  if (!ref.external) throw new Error(`tensor '${ref.name}' has neither data nor an external reference`);
  const { path, offset, length } = ref.external;
  const out = new Float32Array(length / 4);
  const bytes = new Uint8Array(out.buffer);
  const fd = openSync(path, "r");
  try {
    let done = 0;
    while (done < length) {
      const r = readSync(fd, bytes, done, length - done, offset + done);
      if (r === 0) throw new Error(`${path}: unexpected end of file in tensor '${ref.name}'`);
      done += r;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Fresh float32 copies of every parameter of `weights` (the live parameters a trainable model starts from). */
export function materializeParams(weights: LoadedWeights): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, ref] of weights.tensors) out.set(name, ref.data ? ref.data.slice() : tensorValues(ref));
  return out;
}

/**
 * Checkpoints in the Hugging Face layout, loadable by `entk` and by transformers: config.json and the tokenizer
 * files copied from the base model directory, and model.safetensors (float32) holding every tensor of the base
 * model under its original HF name and shape (trained values where `params` has them). `load` goes through the weights loader, so it validates like any model directory.
 */
export function hfCheckpointIO(base: LoadedWeights): CheckpointIO {
  return {
    async save(dir, params) {
      const cfg = join(base.source.dir, "config.json");
      if (existsSync(cfg)) await copyFile(cfg, join(dir, "config.json"));
      else
        await writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(modelConfigToJson(base.config), null, 2)}\n`);
      for (const f of TOKENIZER_FILES)
        if (existsSync(join(base.source.dir, f))) await copyFile(join(base.source.dir, f), join(dir, f));
      for (const name of params.keys())
        if (!base.tensors.has(name))
          throw new Error(`checkpoint: parameter '${name}' is not in the base model ${base.source.dir}`);
      // Every tensor of the base model, in its order: live values for the trained parameters, the base values
      // for the rest (e.g. the pooler, which prompt-based training never touches), so the directory is complete.
      const tensors = [...base.tensors].map(([name, ref]) => {
        const n = ref.shape.reduce((a, b) => a * b, 1);
        const live = params.get(name);
        if (live && live.length !== n)
          throw new Error(`checkpoint: parameter '${name}' has ${live.length} values, shape [${ref.shape}] needs ${n}`);
        return { name, shape: ref.shape, data: live ?? (() => [tensorValues(ref)]) };
      });
      await writeSafetensors(join(dir, SAFETENSORS_FILE), tensors, { format: "pt" });
    },
    async load(dir) {
      return materializeParams(await loadWeightsFromDir(dir));
    },
  };
}
