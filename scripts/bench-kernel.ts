/**
 * Kernel benchmark (issue 5 item 8; not a test). Job: roberta-base-shaped model, SST-2 as the kernel paper runs
 * it (GLUE-SST-2 16-shot: 32 train, 32 dev, 872 test), binary mode (C = 1, needed by asymmetric_signgd), all three
 * formulas. Prints wall time per phase, peak RSS, achieved GFLOP/s and the reference algorithm's pass count; the
 * last line is one JSON object.
 *
 * Until the engine's prompt model is wired in here, the gradient factors are SYNTHETIC but roberta-base-shaped
 * (12 layers × q/k/v/o/FFN, LayerNorms, sparse embeddings and decoder rows) with token counts taken from the
 * GLUE-SST-2 sentences (≈ 1.2 BPE tokens per word + the template's 6 tokens), so the contraction phase is
 * measured at full size; the "factors" phase then times the synthetic generator, not a backward pass.
 *
 *   npx tsx scripts/bench-kernel.ts [--memory 8GB] [--limit-test N] [--strategy auto|materialize|gram]
 */
import { readFileSync } from "node:fs";
import { computeKernels } from "../src/kernels/compute.ts";
import { parseBytes } from "../src/kernels/plan.ts";
import type { FactorSource } from "../src/kernels/types.ts";
import type { ExampleGradFactors } from "../src/model/grad-factors.ts";

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

/** Token counts of GLUE-SST-2 sentences under the template `*cls**sent_0*_It_was*mask*.*sep+*`. */
function lengths(file: string, n: number, skip = 0): number[] {
  const rows = readFileSync(`../shared/datasets/original/GLUE-SST-2/${file}`, "utf8")
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

const limitTest = Number(arg("--limit-test", "872"));
const trainT = lengths("train.tsv", 32);
const devT = lengths("train.tsv", 32, 32);
const testT = lengths("dev.tsv", limitTest);
const memoryBytes = parseBytes(arg("--memory", "8GB"));
const strategy = arg("--strategy", "auto") as "auto";
const t0 = performance.now();
const res = await computeKernels(
  source(trainT, 1),
  { dev: source(devT, 100), test: source(testT, 1000) },
  { formulas: ["sgd", "signgd", "asymmetric_signgd"], memoryBytes, strategy },
);
const total = (performance.now() - t0) / 1000;
const linearParams = L * (4 * H * H + 2 * H * FF) + H * H;
const nEval = 32 + 32 + testT.length;
// sgd, signgd, asymmetric and its flipped kernel: four train×eval contractions over the linear weights.
const flops = 2 * (32 * C) * (nEval * C) * linearParams * 4;
const gflops = flops / res.timings.contraction_s / 1e9;
const peak = process.resourceUsage().maxRSS / 2 ** 20;
// Reference (REFERENCE §5): one JVP per (train example, output, eval example) for sgd and asymmetric, plus the
// flipped asymmetric kernel with the roles swapped on dev and test; signgd uses jacrev on both sides.
const refPasses = 32 * C * nEval * 2 + (32 + testT.length) * C * 32;
console.log(`factors (synthetic generator): ${res.timings.gradients_s.toFixed(1)} s`);
console.log(
  `contraction: ${res.timings.contraction_s.toFixed(1)} s, ${gflops.toFixed(1)} GFLOP/s over ${(flops / 1e12).toFixed(1)} TFLOP`,
);
console.log(
  `plan: eval block ${res.plan.evalBlock}, train block ${res.plan.trainBlock}, work ${(res.plan.workBytes / 2 ** 20).toFixed(0)} MiB`,
);
console.log(
  `total ${total.toFixed(1)} s, peak RSS ${peak.toFixed(2)} GB, reference JVP passes for this job: ${refPasses}`,
);
console.log(
  JSON.stringify({
    mode: "synthetic-factors",
    total_s: total,
    factors_s: res.timings.gradients_s,
    contraction_s: res.timings.contraction_s,
    peak_rss_gb: peak,
    gflops,
    reference_passes: refPasses,
    n_test: testT.length,
  }),
);
