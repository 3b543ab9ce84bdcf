/**
 * A deeper RoBERTa from a trained one by progressive stacking (Gong et al. 2019, "Efficient Training of BERT by
 * Progressively Stacking"): the new encoder's layers are copies of the old ones in a given order — by default the
 * L trained layers twice, 0…L−1 then 0…L−1 again — and every other tensor (embeddings, MLM head) is copied
 * unchanged, so pretraining continues from a model that already has the shallow one's attention patterns in every
 * block instead of from a random init (docs/pretraining.md §13):
 *
 *   npx tsx scripts/stack-layers.ts --model DIR --out DIR2 [--order 0,1,2,3,0,1,2,3]
 *
 * The deeper model computes a different function (layer 0 now also reads layer L−1's output), so its masked-LM
 * loss starts above the shallow one's and training has to bring it back. Float32 out, whatever the input's storage.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { loadWeightsFromDir } from "../src/model/weights/checkpoint.ts";
import { writeSafetensors } from "../src/model/weights/safetensors.ts";
import { TOKENIZER_FILES } from "../src/tokenizer/load.ts";
import { tensorValues } from "../src/training/hf-checkpoint.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

const LAYER = /^roberta\.encoder\.layer\.(\d+)\.(.+)$/;

/** The tensor names of the stacked model and, for each, the old tensor it copies: new layer i is old layer
 * order[i]; names outside the encoder's layers map to themselves. */
export function stackedNames(names: string[], layers: number, order: number[]): [string, string][] {
  for (const l of order)
    if (!Number.isInteger(l) || l < 0 || l >= layers)
      throw new Error(`--order: layer ${l} is not one of the model's layers 0…${layers - 1}`);
  const out: [string, string][] = [];
  for (const name of names) {
    const m = LAYER.exec(name);
    if (!m) out.push([name, name]);
    else if (Number(m[1]) === 0)
      for (const [i, l] of order.entries())
        out.push([`roberta.encoder.layer.${i}.${m[2]}`, `roberta.encoder.layer.${l}.${m[2]}`]);
  }
  return out;
}

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption("--model <dir>", "RoBERTa model directory (Hugging Face layout)")
    .requiredOption("--out <dir>", "output model directory")
    .option("--order <list>", "old layer of each new layer, comma-separated (default: the layers twice)")
    .parse()
    .opts<{ model: string; out: string; order?: string }>();
  const cfg = JSON.parse(readFileSync(join(o.model, "config.json"), "utf8"));
  const L = cfg.num_hidden_layers as number;
  const order = o.order ? o.order.split(",").map(Number) : [...Array(2 * L).keys()].map((i) => i % L);
  const w = await loadWeightsFromDir(o.model);
  const tensors = stackedNames([...w.tensors.keys()], L, order).map(([name, from]) => {
    const t = w.tensors.get(from);
    if (!t) throw new Error(`${o.model}: no tensor ${from}`);
    return { name, shape: t.shape, data: Float32Array.from(tensorValues(t)) };
  });
  mkdirSync(o.out, { recursive: true });
  await writeSafetensors(join(o.out, "model.safetensors"), tensors, {
    format: "pt",
    entk_stacked: JSON.stringify({ order, layers: L }),
  });
  for (const f of TOKENIZER_FILES) if (existsSync(join(o.model, f))) copyFileSync(join(o.model, f), join(o.out, f));
  Object.assign(cfg, { num_hidden_layers: order.length, torch_dtype: "float32" });
  await writeFileAtomic(join(o.out, "config.json"), `${JSON.stringify(cfg, null, 2)}\n`);
  console.log(`${o.out}: ${order.length} layers, copies of layers ${order.join(",")} of ${o.model}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
