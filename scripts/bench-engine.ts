/**
 * Engine benchmark (issue 4 item 10; not a test): roberta-base-shape random weights (referenced in place from a
 * temporary file, as real checkpoints are), 32 examples × 32 tokens. Measures the forward pass (label-word
 * logits) and the Jacobian pass (forward + one backward with C = 2 stacked seeds, producing the factored
 * gradients through the public API, JS extraction included), their GFLOP/s, and the ratio to a plain ORT
 * MatMul measured around each run (paired, so that load from other processes cancels out). The last line printed
 * is one JSON object.
 *
 *   npx tsx scripts/bench-engine.ts [--threads N] [--device cpu|cuda|webgpu] [--reps N] [--layers N]
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Graph } from "../src/model/graph/graph.ts";
import { matmul } from "../src/model/graph/ops.ts";
import { presetConfig } from "../src/model/init/presets.ts";
import { createPromptModel } from "../src/model/prompt-model.ts";
import { type Device, defaultThreads } from "../src/model/runtime/providers.ts";
import { getSession, ort, releaseSessions } from "../src/model/runtime/session.ts";
import { parameterSpecs } from "../src/model/weights/params.ts";
import type { LoadedWeights, ModelConfig, TensorRef } from "../src/model/weights/types.ts";
import { mallocHugePages, relaunchWithHugePages } from "../src/util/hugepages.ts";

// Measure what the `entk` command runs: huge pages for large buffers (src/util/hugepages.ts).
relaunchWithHugePages();

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const threads = Number(arg("threads", String(defaultThreads())));
const device = arg("device", "cpu") as Device;
const reps = Number(arg("reps", "5"));
/** Fewer layers for a quick smoke run; the benchmark proper is 12. */
const layers = Number(arg("layers", "12"));

const cfg: ModelConfig = {
  ...presetConfig("roberta", "roberta-base-shape", 50265),
  numHiddenLayers: layers,
};
const N_EX = 32;
const T = 32;
const C = 2;

/** Random weights (uniform ±0.035 ≈ std 0.02; LayerNorm γ = 1, β = 0) written to one file, referenced in place. */
function writeWeights(dir: string): LoadedWeights {
  const path = join(dir, "model.bin");
  const fd = openSync(path, "w");
  const tensors = new Map<string, TensorRef>();
  let offset = 0;
  let s = 12345;
  for (const { name, shape } of parameterSpecs(cfg)) {
    const n = shape.reduce((p, v) => p * v, 1);
    const a = new Float32Array(n);
    if (/LayerNorm\.weight$|layer_norm\.weight$/.test(name)) a.fill(1);
    else if (!/LayerNorm\.bias$|layer_norm\.bias$/.test(name))
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        a[i] = (s / 4294967296 - 0.5) * 0.07;
      }
    writeSync(fd, new Uint8Array(a.buffer));
    tensors.set(name, { name, shape, external: { path, offset, length: a.byteLength } });
    offset += a.byteLength;
  }
  closeSync(fd);
  return { config: cfg, tensors, hash: "bench-roberta-base-shape", source: { dir } };
}

/** FLOPs (2 per multiply-add) of the encoder + head for n examples of T tokens, forward. */
function flops(n: number, t: number) {
  const H = cfg.hiddenSize;
  const F = cfg.intermediateSize;
  const L = cfg.numHiddenLayers;
  const tokens = n * t;
  const linear = L * 2 * tokens * (4 * H * H + 2 * H * F) + n * 2 * (H * H + C * H);
  const attention = L * 2 * 2 * n * t * t * H; // QKᵀ and probs·V
  // Backward with C seeds: input cotangents only (parameter gradients stay factored): C × (linear + 2 × attention).
  return { forward: linear + attention, backward: C * (linear + 2 * attention) };
}

const PROBE_RUNS = 3;
const PROBE_PAIRS = 2;

/** Seconds of one run. */
async function once(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * Plain ORT MatMuls at the FFN shapes, chained inside one graph run so that feeding and fetching (a few MB)
 * do not count: x [1024, 768] → ·[768, 3072] → ·[3072, 768] → …, PROBE_PAIRS pairs, weights initializers scaled
 * so values stay O(1). Returns a probe giving the GFLOP/s now, averaged over PROBE_RUNS runs (≈ 0.5 s, so
 * contention is averaged over a span like the measured runs', not dodged by picking a quiet few milliseconds).
 */
async function matmulProbe(): Promise<() => Promise<number>> {
  const [m, k, n] = [1024, 768, 3072];
  const g = new Graph();
  const a = g.input("a", "float32", [m, k]);
  const up = g.initializer("up", "float32", [k, n], { data: new Float32Array(k * n).fill(1 / k) });
  const down = g.initializer("down", "float32", [n, k], { data: new Float32Array(n * k).fill(1 / n) });
  let y = a;
  for (let i = 0; i < PROBE_PAIRS; i++) y = matmul(matmul(y, up), down);
  const s = await getSession("bench-matmul", () => ({ build: (l) => g.toModel([y], l), externalFiles: [] }), {
    device,
    threads,
  });
  const feeds = { a: new ort.Tensor("float32", new Float32Array(m * k).fill(0.5), [m, k]) };
  await s.run(feeds);
  return async () => {
    let sec = 0;
    for (let i = 0; i < PROBE_RUNS; i++) sec += await once(() => s.run(feeds));
    return (PROBE_RUNS * PROBE_PAIRS * 2 * 2 * m * k * n) / sec / 1e9;
  };
}

const median = (xs: number[]) => {
  const v = xs.slice().sort((p, q) => p - q);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), "entk-bench-"));
try {
  const t0 = performance.now();
  const weights = writeWeights(dir);
  process.stderr.write(`weights written in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  let s = 7;
  const inputs = Array.from({ length: N_EX }, () => {
    const ids = Array.from({ length: T }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return 3 + (s % (cfg.vocabSize - 3));
    });
    return { inputIds: ids, maskPos: T / 2 };
  });
  const fwd = createPromptModel(weights, [1000, 2000], { device, threads, batchSize: N_EX });
  const jac = createPromptModel(weights, [1000, 2000], { device, threads }); // default batching (token budget)
  // The CPU is shared with other work whose load changes by the second: every measured run is bracketed by
  // MatMul probes, its ratio taken against their mean, and the median ratio over the reps reported (wall times:
  // best of the reps). A warm-up run of each first (session creation, first-run allocations).
  const probe = await matmulProbe();
  await fwd.logits(inputs);
  await jac.gradFactors(inputs);
  const fl = flops(N_EX, T);
  const m: { mm: number; tf: number; tj: number; rf: number; rj: number; rb: number }[] = [];
  for (let r = 0; r < reps; r++) {
    const mm0 = await probe();
    const tf = await once(() => fwd.logits(inputs));
    const mm1 = await probe();
    const tj = await once(() => jac.gradFactors(inputs));
    const mm2 = await probe();
    const mmF = (mm0 + mm1) / 2;
    const mmJ = (mm1 + mm2) / 2;
    m.push({
      mm: (mm0 + mm1 + mm2) / 3,
      tf,
      tj,
      rf: fl.forward / tf / 1e9 / mmF,
      rj: (fl.forward + fl.backward) / tj / 1e9 / mmJ,
      rb: fl.backward / Math.max(tj - tf, 1e-9) / 1e9 / mmJ,
    });
    process.stderr.write(
      `rep ${r + 1}: MatMul ${mmF.toFixed(0)}/${mmJ.toFixed(0)} GFLOP/s, forward ${tf.toFixed(3)} s, ` +
        `Jacobian ${tj.toFixed(3)} s, load ${loadavg()[0].toFixed(2)}\n`,
    );
  }
  const mm = median(m.map((x) => x.mm));
  const tf = Math.min(...m.map((x) => x.tf));
  const tj = Math.min(...m.map((x) => x.tj));
  const fwdRatio = median(m.map((x) => x.rf));
  const jacRatio = median(m.map((x) => x.rj));
  const bwdRatio = median(m.map((x) => x.rb));
  const fwdRate = fl.forward / tf / 1e9;
  const jacRate = (fl.forward + fl.backward) / tj / 1e9;
  const bwdSec = Math.max(tj - tf, 1e-9);
  const bwdRate = fl.backward / bwdSec / 1e9;
  const rows = [
    ["what", "best wall s", "GFLOP", "GFLOP/s", "median ratio to MatMul (paired)"],
    ["MatMul chain 1024×768×3072×768", "", "", mm.toFixed(1), "1.00"],
    ["forward (logits), 32×32", tf.toFixed(3), (fl.forward / 1e9).toFixed(1), fwdRate.toFixed(1), fwdRatio.toFixed(2)],
    [
      "Jacobian C=2 (fwd+bwd, factors)",
      tj.toFixed(3),
      ((fl.forward + fl.backward) / 1e9).toFixed(1),
      jacRate.toFixed(1),
      jacRatio.toFixed(2),
    ],
    [
      "backward only (Jacobian − forward)",
      bwdSec.toFixed(3),
      (fl.backward / 1e9).toFixed(1),
      bwdRate.toFixed(1),
      bwdRatio.toFixed(2),
    ],
  ];
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) console.log(r.map((c, j) => c.padEnd(w[j])).join("  "));
  console.log(
    JSON.stringify({
      device,
      threads,
      examples: N_EX,
      huge_pages_malloc: mallocHugePages(),
      tokens: T,
      C,
      matmul_gflops: +mm.toFixed(1),
      forward_s: +tf.toFixed(3),
      forward_gflops: +fwdRate.toFixed(1),
      jacobian_s: +tj.toFixed(3),
      jacobian_gflops: +jacRate.toFixed(1),
      forward_ratio: +fwdRatio.toFixed(3),
      backward_ratio: +jacRatio.toFixed(3),
      backward_only_ratio: +bwdRatio.toFixed(3),
      load_average: +loadavg()[0].toFixed(2),
    }),
  );
} finally {
  await releaseSessions();
  rmSync(dir, { recursive: true, force: true });
}
