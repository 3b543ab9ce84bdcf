/**
 * One masked-LM pretraining micro-batch (entk pretrain) at a given shape, with its parts timed: the graph run
 * (forward + backward), dropout-mask generation and feeds, gradient accumulation, the AdamW step.
 *
 *   npx tsx scripts/bench-pretrain.ts [--shape hidden=128,layers=4,heads=4,intermediate=512] [--batch 16]
 *     [--seq 128] [--vocab 50262] [--reps 3] [--threads N]
 *
 * Last line: one JSON object with seconds per part and tokens/s of a step of one micro-batch.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initModel } from "../src/model/init/init.ts";
import { createMlmModel } from "../src/model/mlm-model.ts";
import { loadWeightsFromDir } from "../src/model/weights/checkpoint.ts";
import { writeTokenizerFiles } from "../src/tokenizer/index.ts";
import { clipCoefficient, globalGradNorm } from "../src/training/clip.ts";
import { createOptimizer } from "../src/training/optimizers.ts";
import { maskSequences } from "../src/training/pretrain/masking.ts";
import { parseInitShape } from "../src/training/pretrain/setup.ts";
import { Rng } from "../src/training/rng.ts";
import { mallocHugePages, relaunchWithHugePages } from "../src/util/hugepages.ts";

// Measure what the `entk` command runs: huge pages for large buffers (src/util/hugepages.ts).
relaunchWithHugePages();

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const shape = parseInitShape(arg("--shape", "hidden=128,layers=4,heads=4,intermediate=512"));
const B = Number(arg("--batch", "16"));
const T = Number(arg("--seq", "128"));
const V = Number(arg("--vocab", "50262"));
const reps = Number(arg("--reps", "3"));
const threads = process.argv.includes("--threads") ? Number(arg("--threads", "2")) : undefined;

const dir = mkdtempSync(join(tmpdir(), "entk-bench-pt-"));
try {
  await initModel({
    arch: "roberta",
    preset: "small",
    seed: 0,
    out: dir,
    shape,
    writeTokenizer: (d, a) => writeTokenizerFiles(d, a, { vocabSize: V }),
  });
  const w = await loadWeightsFromDir(dir);
  const m = createMlmModel(w, { threads });
  const opt = createOptimizer("adam", m.params, { weightDecay: 0.01, betas: [0.9, 0.98], eps: 1e-6 });
  const rng = new Rng(1);
  const times: Record<string, number[]> = { run: [], accumulate: [], adamw: [] };
  const grads = new Map([...m.params].map(([n, p]) => [n, new Float32Array(p.length)]));
  for (let r = 0; r < reps + 1; r++) {
    const ids = Int32Array.from({ length: B * T }, () => 4 + rng.nextBelow(V - 5));
    const batch = maskSequences(ids, T, { maskId: V - 1, firstPiece: 4, vocabEnd: V - 1 }, rng);
    let t0 = performance.now();
    const g = await m.lossAndGrad(batch, r + 1);
    const tRun = performance.now() - t0;
    t0 = performance.now();
    for (const [n, d] of g.grads) {
      const acc = grads.get(n)!;
      for (let i = 0; i < acc.length; i++) acc[i] += d[i];
    }
    const tAcc = performance.now() - t0;
    t0 = performance.now();
    opt.step(m.params, grads, 1e-4, clipCoefficient(globalGradNorm(grads.values()), 1));
    const tOpt = performance.now() - t0;
    if (r === 0) continue; // warm-up
    times.run.push(tRun / 1000);
    times.accumulate.push(tAcc / 1000);
    times.adamw.push(tOpt / 1000);
  }
  const best = (a: number[]) => Math.min(...a);
  const params = [...m.params.values()].reduce((s, p) => s + p.length, 0);
  const out = {
    shape,
    params,
    tokens: B * T,
    masked: Math.round(0.15 * B * T),
    run_s: best(times.run),
    accumulate_s: best(times.accumulate),
    adamw_s: best(times.adamw),
    tokens_per_s_run: Math.round((B * T) / best(times.run)),
    huge_pages_malloc: mallocHugePages(),
  };
  console.log(JSON.stringify(out));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
