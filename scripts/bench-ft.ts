/**
 * Fine-tuning cost at roberta-base size (125M encoder/embedding parameters + the untied 38.6M decoder).
 *
 *   npx tsx scripts/bench-ft.ts [--reps 3]
 *
 * Measures, in this process: the ORT fp32 MatMul rate (the machine's reference GFLOP/s), the global gradient
 * norm (for clipping; the clip factor is folded into the update), and one in-place SGD / SignGD / AdamW update
 * over every parameter. The update is a fixed per-step cost on top of the engine's forward+backward;
 * `update_ratio` = (AdamW update + norm time) / (time the model's training FLOPs take at the MatMul rate) says
 * how much it can drag the ratio down. Last line: one JSON object.
 */
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { clipCoefficient, globalGradNorm } from "../src/training/clip.ts";
import { createOptimizer, type OptimizerKind } from "../src/training/optimizers.ts";

const { onnx } = onnxProto;
const repsAt = process.argv.indexOf("--reps");
const reps = repsAt > 0 ? Number(process.argv[repsAt + 1]) : 3;
if (!(reps >= 1)) throw new Error("bench-ft: --reps must be a positive integer");

/** roberta-base parameter shapes (HF names) with the untied decoder weight. */
function robertaBaseShapes(): [string, number[]][] {
  const H = 768;
  const I = 3072;
  const V = 50265;
  const out: [string, number[]][] = [
    ["roberta.embeddings.word_embeddings.weight", [V, H]],
    ["roberta.embeddings.position_embeddings.weight", [514, H]],
    ["roberta.embeddings.token_type_embeddings.weight", [1, H]],
    ["roberta.embeddings.LayerNorm.weight", [H]],
    ["roberta.embeddings.LayerNorm.bias", [H]],
  ];
  for (let l = 0; l < 12; l++) {
    const p = `roberta.encoder.layer.${l}`;
    for (const m of ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"])
      out.push([`${p}.${m}.weight`, [H, H]], [`${p}.${m}.bias`, [H]]);
    out.push([`${p}.attention.output.LayerNorm.weight`, [H]], [`${p}.attention.output.LayerNorm.bias`, [H]]);
    out.push([`${p}.intermediate.dense.weight`, [I, H]], [`${p}.intermediate.dense.bias`, [I]]);
    out.push([`${p}.output.dense.weight`, [H, I]], [`${p}.output.dense.bias`, [H]]);
    out.push([`${p}.output.LayerNorm.weight`, [H]], [`${p}.output.LayerNorm.bias`, [H]]);
  }
  out.push(["lm_head.dense.weight", [H, H]], ["lm_head.dense.bias", [H]]);
  out.push(["lm_head.layer_norm.weight", [H]], ["lm_head.layer_norm.bias", [H]]);
  out.push(["lm_head.decoder.weight", [V, H]], ["lm_head.bias", [V]]);
  return out;
}

/** Training FLOPs of one step, B × T tokens: 3 × forward (backward ≈ 2 × forward) of the encoder matmuls + attention. */
function trainFlops(B: number, T: number): number {
  const H = 768;
  const I = 3072;
  const L = 12;
  const linear = 2 * B * T * (4 * H * H + 2 * H * I) * L;
  const attention = 2 * 2 * B * T * T * H * L;
  const head = 2 * B * (H * H); // lm_head.dense at the mask only
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
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 4 });
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
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    await s.run(feeds);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  await s.release();
  return (2 * M * K * N) / best / 1e9;
}

function bestOf(f: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

const shapes = robertaBaseShapes();
const params = new Map(shapes.map(([n, s]) => [n, new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.01)]));
const grads = new Map(shapes.map(([n, s]) => [n, new Float32Array(s.reduce((a, b) => a * b, 1)).fill(1e-4)]));
const nParams = [...params.values()].reduce((a, p) => a + p.length, 0);
const gflopsMatMul = await matmulRate(512, 768, 3072);
const clipS = bestOf(() => clipCoefficient(globalGradNorm(grads.values()), 1.0));
const update: Record<string, number> = {};
for (const kind of ["sgd", "signgd", "adam"] as OptimizerKind[]) {
  const opt = createOptimizer(kind, params, { weightDecay: 0.01 });
  update[kind] = bestOf(() => opt.step(params, grads, 1e-5, 0.5)); // 0.5: clipping active, folded in
}
const flops = trainFlops(8, 64);
const idealStepS = flops / (gflopsMatMul * 1e9);
const rows = [
  ["parameters", `${(nParams / 1e6).toFixed(1)} M (${((nParams * 4) / 2 ** 20).toFixed(0)} MiB)`],
  ["ORT MatMul 512×768×3072", `${gflopsMatMul.toFixed(1)} GFLOP/s`],
  ["train FLOPs, B=8 T=64", `${(flops / 1e9).toFixed(1)} GFLOP → ${idealStepS.toFixed(2)} s at the MatMul rate`],
  ["global grad norm (clip)", `${clipS.toFixed(3)} s`],
  ...Object.entries(update).map(([k, v]) => [`${k} update (in place)`, `${v.toFixed(3)} s`]),
];
for (const [k, v] of rows) console.log(`${k.padEnd(28)} ${v}`);
console.log(
  JSON.stringify({
    params: nParams,
    matmul_gflops: gflopsMatMul,
    train_gflop: flops / 1e9,
    clip_s: clipS,
    update_s: update,
    update_ratio: (update.adam + clipS) / idealStepS,
    step_s: null,
    ratio: null,
    note: "step_s/ratio need the engine's trainable model (not merged yet)",
  }),
);
