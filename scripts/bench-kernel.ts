/**
 * Kernel benchmark (issue 5 item 8; not a test). Job: a roberta-base-shaped model (`model init`), SST-2 as the
 * kernel paper runs it (GLUE-SST-2 sizes: 32 train, 32 dev, 872 test), binary mode (C = 1; asymmetric_signgd needs
 * it in the reference), all three formulas, no cache (a cold run). No real roberta-base tokenizer is available
 * offline, so prompts are random ids with the token counts roberta-base gives the GLUE-SST-2 sentences
 * (≈ 1.2 BPE tokens per word + the template's 6 tokens; train/dev from train.tsv, test = dev.tsv).
 * Prints wall time per phase, peak RSS, achieved GFLOP/s of the contraction and the reference algorithm's pass
 * count, and a plain-Gemm probe before and after with the load average; the last line is one JSON object with
 * total_s, peak_rss_gb, memory_budget_gb (sizes in 2^30 bytes, as `--memory 8GB` means), gflops and
 * contraction_ratio (issue 18): the contraction's GFLOP/s over the mean probe GFLOP/s of the same run. Its FLOPs are
 * counted as four train×eval products over the linear weights (2·n_train·n_eval·params each), whatever the route
 * does besides (materializing, signs) or saves; contraction_ratio_cpu is the same ratio from CPU seconds. In engine
 * mode it adds predicted_tflop (the planner's cost model, src/kernels/cost.ts, for this job) and phase_efficiency,
 * each phase's predicted FLOPs per second over the mean probe rate: the values of PHASE_EFFICIENCY to update.
 *
 * Smaller sizes for iterating: `--limit-test N` keeps N test sentences (e.g. 96: 160 eval examples instead of 936);
 * with `--synthetic` no engine runs at all. Numbers quoted from a run must say which size and load they came from.
 *
 * `--synthetic` skips the engine and contracts random roberta-base-shaped factors (token counts from the same
 * sentences), to time the contraction phase alone.
 *
 *   ENTK_LMBFF_DIR=DIR npx tsx scripts/bench-kernel.ts [--memory 8GB] [--limit-test N] [--strategy auto|materialize|gram] [--synthetic]
 *     [--work 512MiB] [--eval-block N] [--workers N]   (tuning: fix these instead of planning them;
 *     --workers 1 contracts in-process on all cores instead of in one single-threaded worker thread per core)
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { computeKernels } from "../src/kernels/compute.ts";
import { kernelJobFlops, PHASE_EFFICIENCY } from "../src/kernels/cost.ts";
import { modelFactorSource } from "../src/kernels/model-source.ts";
import { contractDense } from "../src/kernels/ort-graphs.ts";
import { type KernelPlan, parseBytes } from "../src/kernels/plan.ts";
import { defaultContractionWorkers } from "../src/kernels/slice-workers.ts";
import type { FactorSource } from "../src/kernels/types.ts";
import type { ExampleGradFactors } from "../src/model/grad-factors.ts";
import { initModel } from "../src/model/init/init.ts";
import { loadModel } from "../src/model/load.ts";
import { createPromptModel } from "../src/model/prompt-model.ts";
import type { PromptInput } from "../src/model/types.ts";
import { readModelConfig } from "../src/model/weights/config.ts";
import { mallocHugePages, relaunchWithHugePages } from "../src/util/hugepages.ts";

// Measure what the `entk` command runs: huge pages for large buffers (src/util/hugepages.ts).
relaunchWithHugePages();

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const H = 768;
const FF = 3072;
const L = 12;
const VOCAB = 50265;
const C = 1;
const LABEL_WORDS = [6587, 372]; // " terrible", " great" in roberta-base's vocabulary

/** LM-BFF's data folder (`original/GLUE-SST-2/` inside it, as `entk data fetch --out DIR` writes it). */
function lmbffDir(): string {
  const dir = process.env.ENTK_LMBFF_DIR;
  if (!dir || !existsSync(join(dir, "original", "GLUE-SST-2")))
    throw new Error(
      `bench-kernel: set ENTK_LMBFF_DIR to a folder holding LM-BFF's original/GLUE-SST-2/ (entk data fetch --out DIR)${dir ? `; ${dir}/original/GLUE-SST-2 does not exist` : ""}`,
    );
  return dir;
}

/** Token counts of GLUE-SST-2 sentences under the template `*cls**sent_0*_It_was*mask*.*sep+*`. */
function lengths(file: string, n: number, skip = 0): number[] {
  const rows = readFileSync(join(lmbffDir(), "original", "GLUE-SST-2", file), "utf8")
    .trim()
    .split("\n")
    .slice(1 + skip);
  return rows.slice(0, n).map((r) => Math.ceil(r.split("\t")[0].trim().split(/\s+/).length * 1.2) + 6);
}

/** xorshift32 fill in [-1, 1) with ~10% exact zeros: fast enough that generation does not dominate. */
function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = (x >>> 0) / 4294967296;
    a[i] = u < 0.1 ? 0 : u * 2 - 1;
  }
  return a;
}

function example(seed: number, T: number): ExampleGradFactors {
  let s = seed * 1000;
  const f = (n: number) => fill(n, ++s);
  const linears: ExampleGradFactors["linears"] = [];
  const dense: ExampleGradFactors["dense"] = [];
  const zero: string[] = [];
  for (let l = 0; l < L; l++) {
    const p = `roberta.encoder.layer.${l}.`;
    const Xa = f(T * H);
    for (const m of ["query", "key", "value"]) {
      const bias = `${p}attention.self.${m}.bias`;
      if (m === "key") zero.push(bias);
      linears.push({
        weight: `${p}attention.self.${m}.weight`,
        bias: m === "key" ? undefined : bias,
        T,
        dIn: H,
        dOut: H,
        X: Xa,
        delta: f(C * T * H),
      });
    }
    linears.push({
      weight: `${p}attention.output.dense.weight`,
      bias: `${p}attention.output.dense.bias`,
      T,
      dIn: H,
      dOut: H,
      X: f(T * H),
      delta: f(C * T * H),
    });
    linears.push({
      weight: `${p}intermediate.dense.weight`,
      bias: `${p}intermediate.dense.bias`,
      T,
      dIn: H,
      dOut: FF,
      X: f(T * H),
      delta: f(C * T * FF),
    });
    linears.push({
      weight: `${p}output.dense.weight`,
      bias: `${p}output.dense.bias`,
      T,
      dIn: FF,
      dOut: H,
      X: f(T * FF),
      delta: f(C * T * H),
    });
    for (const ln of ["attention.output.LayerNorm", "output.LayerNorm"])
      for (const w of ["weight", "bias"]) dense.push({ param: `${p}${ln}.${w}`, size: H, values: f(C * H) });
  }
  linears.push({
    weight: "lm_head.dense.weight",
    bias: "lm_head.dense.bias",
    T: 1,
    dIn: H,
    dOut: H,
    X: f(H),
    delta: f(C * H),
  });
  for (const w of ["weight", "bias"]) {
    dense.push({ param: `roberta.embeddings.LayerNorm.${w}`, size: H, values: f(C * H) });
    dense.push({ param: `lm_head.layer_norm.${w}`, size: H, values: f(C * H) });
  }
  const ids = new Set<number>([0, 2, 50264]);
  let x = seed;
  while (ids.size < Math.min(T, 3 + T - 3)) ids.add((x = (x * 1103515245 + 12345) >>> 0) % VOCAB);
  const rows = Int32Array.from([...ids].sort((a, b) => a - b));
  const dec = Int32Array.from(LABEL_WORDS).sort();
  return {
    C,
    linears,
    dense,
    sparse: [
      {
        param: "roberta.embeddings.word_embeddings.weight",
        numRows: VOCAB,
        width: H,
        rows,
        values: f(C * rows.length * H),
      },
      {
        param: "roberta.embeddings.position_embeddings.weight",
        numRows: 514,
        width: H,
        rows: Int32Array.from({ length: T }, (_, t) => t + 2),
        values: f(C * T * H),
      },
      {
        param: "roberta.embeddings.token_type_embeddings.weight",
        numRows: 1,
        width: H,
        rows: Int32Array.from([0]),
        values: f(C * H),
      },
      { param: "lm_head.decoder.weight", numRows: VOCAB, width: H, rows: dec, values: f(C * 2 * H) },
      { param: "lm_head.bias", numRows: VOCAB, width: 1, rows: dec.slice(), values: f(C * 2) },
    ],
    zero,
  };
}

function source(Ts: number[], seed0: number): FactorSource {
  return { size: Ts.length, tokens: Ts, load: async (s, e) => Ts.slice(s, e).map((T, i) => example(seed0 + s + i, T)) };
}

/**
 * Load probe: best of 3 plain Gemms [64, 2^19]·[128, 2^19]ᵀ (a contraction-like shape) on the same runtime, run
 * before and after the job, so a slow run on a shared machine can be told apart from a slow algorithm.
 */
async function gemmProbe(): Promise<{ wall: number; cpu: number }> {
  const [R, Q, D] = [64, 128, 2 ** 19];
  const a = fill(R * D, 7);
  const b = fill(Q * D, 8);
  let best = Number.POSITIVE_INFINITY;
  let bestCpu = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await contractDense(a, R, b, Q, D, ["PP"]);
    const used = process.cpuUsage(c);
    best = Math.min(best, performance.now() - t);
    bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000);
  }
  return { wall: (2 * R * Q * D) / best / 1e6, cpu: (2 * R * Q * D) / bestCpu / 1e6 };
}

const probeBefore = await gemmProbe();
const limitTest = Number(arg("--limit-test", "872"));
const memoryBytes = parseBytes(arg("--memory", "8GB"));
const strategy = arg("--strategy", "auto") as "auto";
// Tuning only: fix the work space per ORT call / the eval block instead of planning them (the budget check still runs).
const planOverride = {
  ...(process.argv.includes("--work") ? { workBytes: parseBytes(arg("--work", ""), "--work") } : {}),
  ...(process.argv.includes("--eval-block") ? { evalBlock: Number(arg("--eval-block", "")) } : {}),
};
const workers = process.argv.includes("--workers") ? { workers: Number(arg("--workers", "")) } : {};
const formulas = ["sgd", "signgd", "asymmetric_signgd"] as const;
const linearParams = L * (4 * H * H + 2 * H * FF) + H * H;
const t0 = performance.now();
let phases: Record<string, number>;
let nEval: number;
let plan: KernelPlan;
let contractionCpu: number;
/** The cost model's FLOPs of this job's phases (engine mode), for the planner's PHASE_EFFICIENCY. */
let predicted: Record<"logits" | "gradients" | "contraction", number> | undefined;
if (process.argv.includes("--synthetic")) {
  const trainT = lengths("train.tsv", 32);
  const devT = lengths("train.tsv", 32, 32);
  const testT = lengths("dev.tsv", limitTest);
  const res = await computeKernels(
    source(trainT, 1),
    { dev: source(devT, 100), test: source(testT, 1000) },
    { formulas: [...formulas], memoryBytes, strategy, planOverride, ...workers },
  );
  phases = { factors_synthetic_s: res.timings.gradients_s, contraction_s: res.timings.contraction_s };
  contractionCpu = res.timings.contraction_cpu_s ?? Number.NaN;
  plan = res.plan;
  nEval = 32 + 32 + testT.length;
  console.log(`plan: eval block ${res.plan.evalBlock}, train block ${res.plan.trainBlock}`);
} else {
  const work = join(tmpdir(), "entk-bench-kernel");
  const modelDir = join(work, "roberta-base-shape");
  if (!existsSync(join(modelDir, "model.safetensors"))) {
    mkdirSync(work, { recursive: true });
    await initModel({ arch: "roberta", preset: "roberta-base-shape", seed: 0, out: modelDir });
  }
  const weights = await loadModel(modelDir);
  const model = createPromptModel(weights, LABEL_WORDS, { binary: true });
  const t1 = performance.now();
  // Prompts with roberta-base token counts of the real sentences (random ids; the synthetic tokenizer of
  // `model init` splits words far finer than roberta-base's BPE, which would overstate the gradient cost).
  const prompts = (Ts: number[], seed: number): PromptInput[] =>
    Ts.map((T, i) => {
      const ids = Array.from(fill(T, seed + i), (u) => 3 + Math.floor(Math.abs(u) * 50000));
      ids[0] = 0;
      ids[T - 1] = 2;
      ids[T - 3] = 50264;
      return { inputIds: ids, maskPos: T - 3 };
    });
  const sets = {
    train: prompts(lengths("train.tsv", 32), 1),
    dev: prompts(lengths("train.tsv", 32, 32), 100),
    test: prompts(lengths("dev.tsv", limitTest), 1000),
  };
  for (const xs of Object.values(sets)) await model.logits(xs);
  const t2 = performance.now();
  const key = { weightsHash: weights.hash, labelWordIds: LABEL_WORDS, binary: true };
  const res = await computeKernels(
    modelFactorSource(model, sets.train, key),
    { dev: modelFactorSource(model, sets.dev, key), test: modelFactorSource(model, sets.test, key) },
    { formulas: [...formulas], memoryBytes, strategy, params: model.params(), planOverride, ...workers },
  );
  phases = {
    setup_s: (t1 - t0) / 1000,
    logits_s: (t2 - t1) / 1000,
    gradients_s: res.timings.gradients_s,
    contraction_s: res.timings.contraction_s,
  };
  contractionCpu = res.timings.contraction_cpu_s ?? Number.NaN;
  nEval = 32 + 32 + sets.test.length;
  const T = (xs: PromptInput[]) => xs.map((x) => x.inputIds.length);
  const f = kernelJobFlops({
    cfg: readModelConfig(modelDir),
    tokens: { train: T(sets.train), evals: { dev: T(sets.dev), test: T(sets.test) } },
    nLabelWords: LABEL_WORDS.length,
    binary: true,
    formulas: [...formulas],
    strategy,
    evalBlock: res.plan.evalBlock,
    trainBlock: res.plan.trainBlock,
    workBytes: res.plan.workBytes,
  });
  predicted = { logits: f.logits, gradients: f.gradients, contraction: f.contraction };
  plan = res.plan;
  console.log(`plan: eval block ${res.plan.evalBlock}, train block ${res.plan.trainBlock}; grad_dim ${res.gradDim}`);
}
const total = (performance.now() - t0) / 1000;
const probeAfter = await gemmProbe();
// sgd, signgd, asymmetric and its flipped kernel: four train×eval contractions over the linear weights.
const flops = 2 * (32 * C) * (nEval * C) * linearParams * 4;
const gflops = flops / phases.contraction_s / 1e9;
// The issue-18 measure: the contraction's rate over the mean probe rate of the same run. On a loaded machine the
// wall-clock rates of both swing with the load; the CPU-time rates (FLOPs per CPU-second, all threads) swing less.
const ratio = gflops / ((probeBefore.wall + probeAfter.wall) / 2);
const gflopsCpu = flops / contractionCpu / 1e9;
const ratioCpu = gflopsCpu / ((probeBefore.cpu + probeAfter.cpu) / 2);
const peak = process.resourceUsage().maxRSS / 2 ** 20;
// Achieved fraction of the probe's wall-clock rate per phase, as the planner's PHASE_EFFICIENCY (src/kernels/cost.ts)
// defines it: the cost model's FLOPs of the phase over its seconds, over the mean probe rate.
const probeMean = (probeBefore.wall + probeAfter.wall) / 2;
const phaseSeconds = { logits: phases.logits_s, gradients: phases.gradients_s, contraction: phases.contraction_s };
const efficiency =
  predicted &&
  Object.fromEntries(
    (Object.keys(PHASE_EFFICIENCY) as (keyof typeof PHASE_EFFICIENCY)[]).map((p) => [
      p,
      predicted[p] / phaseSeconds[p] / 1e9 / probeMean,
    ]),
  );
// Reference (docs/protocol.md §5): one JVP per (train example, output, eval example) for sgd and for asymmetric, plus
// the flipped asymmetric kernel with the roles swapped on dev and test; signgd takes jacrev of both sides.
const refPasses = 32 * C * nEval * 2 + (nEval - 32) * C * 32;
for (const [k, v] of Object.entries(phases)) console.log(`${k.padEnd(22)} ${v.toFixed(1)}`);
console.log(
  `Gemm probe: ${probeBefore.wall.toFixed(1)} GFLOP/s before, ${probeAfter.wall.toFixed(1)} after (per CPU-second: ${probeBefore.cpu.toFixed(1)}, ${probeAfter.cpu.toFixed(1)}; load: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")})`,
);
console.log(
  `contraction: ${gflops.toFixed(1)} GFLOP/s over ${(flops / 1e12).toFixed(2)} TFLOP, ${ratio.toFixed(2)} of the probe rate; per CPU-second ${gflopsCpu.toFixed(1)}, ${ratioCpu.toFixed(2)} of the probe's`,
);
console.log(
  `total ${total.toFixed(1)} s, peak RSS ${peak.toFixed(2)} GiB (budget ${(memoryBytes / 2 ** 30).toFixed(2)} GiB), reference JVP passes for this job: ${refPasses}`,
);
console.log(
  JSON.stringify({
    mode: process.argv.includes("--synthetic") ? "synthetic-factors" : "engine",
    huge_pages_malloc: mallocHugePages(),
    total_s: total,
    ...phases,
    peak_rss_gb: peak,
    memory_budget_gb: memoryBytes / 2 ** 30,
    gflops,
    gemm_probe_gflops: [probeBefore.wall, probeAfter.wall],
    contraction_ratio: ratio,
    contraction_cpu_s: contractionCpu,
    gemm_probe_gflops_per_cpu_s: [probeBefore.cpu, probeAfter.cpu],
    contraction_ratio_cpu: ratioCpu,
    load_avg: loadavg(),
    reference_passes: refPasses,
    ...(predicted && {
      predicted_tflop: Object.fromEntries(Object.entries(predicted).map(([k, v]) => [k, v / 1e12])),
      phase_efficiency: efficiency,
    }),
    n_eval: nEval,
    contraction_workers: workers.workers ?? defaultContractionWorkers(),
    plan: { eval_block: plan.evalBlock, train_block: plan.trainBlock, work_bytes: plan.workBytes, parts: plan.parts },
  }),
);
