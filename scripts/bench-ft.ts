/**
 * One fine-tuning step at roberta-base shape (125M encoder/embedding parameters + the untied 38.6M decoder),
 * batch 8 × 64 tokens, on the engine, against the ORT fp32 MatMul rate measured in the same process.
 *
 *   npx tsx scripts/bench-ft.ts [--reps 3] [--warmup 2] [--optimizer adam|sgd|signgd] [--model DIR] [--threads N]
 *
 * Without --model a random roberta-base-shape checkpoint is written to a temp directory first (entk model init).
 * Per step: loss+gradients (engine, dropout on), global gradient norm, in-place optimizer update. Reported:
 * seconds per step (best of --reps after --warmup warm-up steps: the first two
 * steps run ~2× slower while ORT's arena and the process's memory grow), achieved GFLOP/s = training FLOPs / step time, and
 * `ratio` = achieved / MatMul GFLOP/s (best MatMul probe, interleaved with the steps). Last line: one JSON
 * object with `step_s` and `ratio`.
 *
 * Side by side (issue 18 item 4): unless --no-torch, the same step in PyTorch (scripts/bench-ft-torch.py: same shape,
 * batch, loss, clipping and AdamW) runs right after, in a child process, with the first Python found that imports
 * torch ($ENTK_TORCH_PYTHON, python3, /usr/bin/python3: Debian's python3-torch installs there); its best step goes
 * into the JSON as `torch_step_s` (null with `torch_note` saying why when torch is not there). torch is optional.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { initModel } from "../src/model/init/init.ts";
import { defaultThreads } from "../src/model/runtime/providers.ts";
import { loadWeightsFromDir } from "../src/model/weights/checkpoint.ts";
import { writeTokenizerFiles } from "../src/tokenizer/index.ts";
import { clipCoefficient, globalGradNorm } from "../src/training/clip.ts";
import { engineModelFactory } from "../src/training/engine-model.ts";
import { createOptimizer, OPTIMIZER_KINDS, type OptimizerKind } from "../src/training/optimizers.ts";
import { mallocHugePages, relaunchWithHugePages } from "../src/util/hugepages.ts";

// Measure what the `entk` command runs: huge pages for large buffers (src/util/hugepages.ts).
relaunchWithHugePages();

const { onnx } = onnxProto;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const reps = Number(arg("--reps") ?? 3);
const warmup = Number(arg("--warmup") ?? 2);
const optimizer = (arg("--optimizer") ?? "adam") as OptimizerKind;
const threads = Number(arg("--threads") ?? defaultThreads());
if (!(Number.isInteger(reps) && reps >= 1)) throw new Error("bench-ft: --reps must be an integer >= 1");
if (!(Number.isInteger(warmup) && warmup >= 1)) throw new Error("bench-ft: --warmup must be an integer >= 1");
if (!OPTIMIZER_KINDS.includes(optimizer)) throw new Error(`bench-ft: --optimizer must be one of ${OPTIMIZER_KINDS}`);
const B = 8;
const T = 64;

/** Training FLOPs of one step: 3 × forward (backward ≈ 2 × forward) of the encoder matmuls + attention. */
function trainFlops(H: number, I: number, L: number): number {
  const linear = 2 * B * T * (4 * H * H + 2 * H * I) * L;
  const attention = 2 * 2 * B * T * T * H * L;
  const head = 2 * B * H * H; // lm_head.dense at the mask only (the C label-word rows of the decoder are negligible)
  return 3 * (linear + attention + head);
}

async function matmulRate(M: number, K: number, N: number): Promise<number> {
  const t = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  const model = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: {
        name: "mm",
        node: [{ opType: "MatMul", input: ["a", "b"], output: ["c"] }],
        input: [t("a", [M, K]), t("b", [K, N])],
        output: [t("c", [M, N])],
      },
    }),
  ).finish();
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 4, intraOpNumThreads: threads });
  const feeds = {
    a: new ort.Tensor(
      "float32",
      Float32Array.from({ length: M * K }, (_, i) => (i % 13) / 13),
      [M, K],
    ),
    b: new ort.Tensor(
      "float32",
      Float32Array.from({ length: K * N }, (_, i) => (i % 7) / 7),
      [K, N],
    ),
  };
  await s.run(feeds);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    await s.run(feeds);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  await s.release();
  return (2 * M * K * N) / best / 1e9;
}

const now = () => performance.now() / 1000;

/** The PyTorch side of the side-by-side: its best step, or why there is none. */
function torchStep(): { step_s: number | null; note?: string; torch?: string } {
  if (process.argv.includes("--no-torch")) return { step_s: null, note: "--no-torch" };
  const pythons = [process.env.ENTK_TORCH_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p);
  const py = pythons.find((p) => spawnSync(p, ["-c", "import torch"], { stdio: "ignore" }).status === 0);
  if (!py) return { step_s: null, note: `no Python with torch among ${pythons.join(", ")}` };
  const script = join(import.meta.dirname, "bench-ft-torch.py");
  const args = [script, "--reps", String(reps), "--warmup", String(warmup), "--threads", String(threads)];
  const r = spawnSync(py, args, { encoding: "utf8" });
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  if (r.status !== 0 || !last.startsWith("{"))
    return { step_s: null, note: `${py} ${script} failed: ${r.stderr.trim().slice(-300)}` };
  const j = JSON.parse(last);
  return { step_s: j.step_s, torch: `${j.torch} (${py})` };
}
let dir = arg("--model");
let tmp: string | undefined;
const t0 = now();
if (!dir) {
  tmp = mkdtempSync(join(tmpdir(), "entk-bench-ft-"));
  dir = tmp;
  await initModel({
    arch: "roberta",
    preset: "roberta-base-shape",
    seed: 0,
    out: dir,
    writeTokenizer: writeTokenizerFiles,
  });
}
const initS = now() - t0;
try {
  const weights = await loadWeightsFromDir(dir);
  const cfg = weights.config;
  const labelWords = [100, 200];
  const model = await engineModelFactory({ threads })(weights, labelWords);
  const opt = createOptimizer(optimizer, model.params, { weightDecay: 0.01 });
  const nParams = [...model.params.values()].reduce((a, p) => a + p.length, 0);
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const inputs = Array.from({ length: B }, () => ({
    inputIds: [0, ...Array.from({ length: T - 2 }, () => 3 + Math.floor(rnd() * (cfg.vocabSize - 4))), 2],
    maskPos: T / 2,
  }));
  for (const x of inputs) x.inputIds[x.maskPos] = 50264;
  const labels = inputs.map((_, i) => i % 2);

  const step = async (s: number) => {
    const a = now();
    const { grads, sparse } = await model.lossAndGrad(inputs, labels, { dropoutSeed: s });
    const b = now();
    const all = [...grads.values(), ...[...(sparse?.values() ?? [])].map((g) => g.values)];
    const coef = clipCoefficient(globalGradNorm(all), 1.0);
    const c = now();
    opt.step(model.params, grads, 1e-5, coef, sparse);
    const d = now();
    return { fb: b - a, norm: c - b, update: d - c, total: d - a };
  };
  const first = await step(0);
  for (let w = 1; w < warmup; w++) await step(reps + w);
  // Steps and MatMul probes interleaved, so both see the same machine load (a shared machine's load drifts).
  const runs = [];
  let gflopsMatMul = 0;
  for (let r = 1; r <= reps; r++) {
    gflopsMatMul = Math.max(gflopsMatMul, await matmulRate(B * T, 768, 3072));
    runs.push(await step(r));
  }
  const best = runs.reduce((x, y) => (y.total < x.total ? y : x));
  // Dev/test evaluation cost: eval-mode logits of the same batch (model selection runs this on dev every N steps).
  let evalS = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 2; r++) {
    const a = now();
    await model.logits(inputs);
    evalS = Math.min(evalS, now() - a);
  }
  const flops = trainFlops(cfg.hiddenSize, cfg.intermediateSize, cfg.numHiddenLayers);
  const achieved = flops / best.total / 1e9;
  const loadBefore = loadavg();
  const torch = torchStep();
  const rows: [string, string][] = [
    ["threads", String(threads)],
    ["parameters (trained)", `${(nParams / 1e6).toFixed(1)} M`],
    ["model init (random ckpt)", tmp ? `${initS.toFixed(1)} s` : "(given)"],
    ["first step (incl. session)", `${first.total.toFixed(2)} s`],
    ["loss + gradients", `${best.fb.toFixed(3)} s`],
    ["gradient norm", `${best.norm.toFixed(3)} s`],
    [`${optimizer} update (in place)`, `${best.update.toFixed(3)} s`],
    ["step", `${best.total.toFixed(3)} s`],
    ["eval logits, same batch", `${evalS.toFixed(3)} s`],
    ["train FLOPs / step", `${(flops / 1e9).toFixed(1)} GFLOP`],
    ["achieved", `${achieved.toFixed(1)} GFLOP/s`],
    ["ORT MatMul 512×768×3072", `${gflopsMatMul.toFixed(1)} GFLOP/s`],
    ["ratio", (achieved / gflopsMatMul).toFixed(3)],
    [
      "torch step (same shape)",
      torch.step_s === null ? `- (${torch.note})` : `${torch.step_s.toFixed(3)} s, torch ${torch.torch}`,
    ],
    ["load average", loadBefore.map((x) => x.toFixed(2)).join(" ")],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(28)} ${v}`);
  console.log(
    JSON.stringify({
      step_s: best.total,
      huge_pages_malloc: mallocHugePages(),
      ratio: achieved / gflopsMatMul,
      gflops: achieved,
      matmul_gflops: gflopsMatMul,
      fb_s: best.fb,
      norm_s: best.norm,
      update_s: best.update,
      first_step_s: first.total,
      warmup,
      eval_batch_s: evalS,
      optimizer,
      threads,
      params: nParams,
      batch: B,
      tokens: T,
      torch_step_s: torch.step_s,
      ...(torch.note ? { torch_note: torch.note } : { torch_version: torch.torch }),
      load_avg: loadBefore,
    }),
  );
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
