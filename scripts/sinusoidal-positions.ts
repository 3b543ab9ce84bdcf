/**
 * Replace a RoBERTa's learned position embeddings by sinusoids (Vaswani et al. 2017) before continuing its
 * pretraining, and set its dropout to 0 (docs/pretraining.md §8–9; entk-mini's second stage started this way):
 *
 *   npx tsx scripts/sinusoidal-positions.ts --model DIR --out DIR2 [--norm 0.4]
 *
 * Row 2 + p (RoBERTa's positions start after the padding index) becomes a·(sin f_0 p, cos f_0 p, sin f_1 p, …)
 * with f_i = 10000^(−2i/H) and a = norm / √(H/2), so every row has Euclidean norm `norm`. The point: the
 * embedding of position p + k is a fixed rotation of that of p (for every p), so "attend to the previous token" is
 * one linear map that attention can express with small weights, where learned positions must first discover it.
 * Rows 0 and 1 and every other tensor are copied unchanged (float32 out, whatever the input's storage).
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

const POSITIONS = "roberta.embeddings.position_embeddings.weight";
/** RoBERTa's first real position id (0 and 1 belong to the padding convention). */
const FIRST_POSITION = 2;

/** The sinusoidal rows for positions FIRST_POSITION… of a [P, H] table, each of Euclidean norm `norm`. */
export function sinusoidalRows(P: number, H: number, norm: number): Float32Array {
  if (H % 2 !== 0) throw new Error(`hidden size ${H}: expected an even number`);
  const out = new Float32Array(P * H);
  const a = norm / Math.sqrt(H / 2);
  for (let r = FIRST_POSITION; r < P; r++) {
    const p = r - FIRST_POSITION;
    for (let i = 0; i < H / 2; i++) {
      const f = p / 10000 ** ((2 * i) / H);
      out[r * H + 2 * i] = a * Math.sin(f);
      out[r * H + 2 * i + 1] = a * Math.cos(f);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption("--model <dir>", "RoBERTa model directory (Hugging Face layout)")
    .requiredOption("--out <dir>", "output model directory")
    .option("--norm <x>", "Euclidean norm of each position row", "0.4")
    .parse()
    .opts<{ model: string; out: string; norm: string }>();
  const norm = Number(o.norm);
  if (!(norm > 0)) throw new Error(`--norm: expected a positive number, got ${o.norm}`);
  const w = await loadWeightsFromDir(o.model);
  const ref = w.tensors.get(POSITIONS);
  if (!ref) throw new Error(`${o.model}: no tensor ${POSITIONS} (expected a RoBERTa checkpoint)`);
  const [P, H] = ref.shape;
  const sin = sinusoidalRows(P, H, norm);
  const tensors = [...w.tensors].map(([name, t]) => {
    const data = Float32Array.from(tensorValues(t));
    if (name === POSITIONS) data.set(sin.subarray(FIRST_POSITION * H), FIRST_POSITION * H);
    return { name, shape: t.shape, data };
  });
  mkdirSync(o.out, { recursive: true });
  await writeSafetensors(join(o.out, "model.safetensors"), tensors, {
    format: "pt",
    entk_positions: JSON.stringify({ sinusoidal: true, norm }),
  });
  for (const f of TOKENIZER_FILES) if (existsSync(join(o.model, f))) copyFileSync(join(o.model, f), join(o.out, f));
  const cfg = JSON.parse(readFileSync(join(o.model, "config.json"), "utf8"));
  Object.assign(cfg, { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, torch_dtype: "float32" });
  await writeFileAtomic(join(o.out, "config.json"), `${JSON.stringify(cfg, null, 2)}\n`);
  console.log(`${o.out}: positions ${FIRST_POSITION}…${P - 1} sinusoidal (row norm ${norm}), dropout 0`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
