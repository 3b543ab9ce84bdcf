/**
 * Cost model of a kernel job (issue 18 item 2; README "Planning a sweep"): the GEMM/MatMul FLOPs (2 per
 * multiply-add; elementwise ops, softmax, LayerNorm, sign and the JS sparse-row pass are not counted) that a job
 * runs on onnxruntime, predicted from the model's shape and the examples' token counts alone, phase by phase:
 *
 * - logits: one eval-mode forward per example, length-sorted batches under TOKEN_BUDGET.logits (src/model/batch.ts);
 * - gradients: the factors graph (forward + one backward per output c, docs/kernels.md §3) per loaded chunk:
 *   the train set in chunks of 32, then 8 (src/kernels/compute.ts), each eval split per eval block;
 * - contraction: per eval block and linear layer the Gram trick or G = Δᵀ X materialization, chosen and sliced as
 *   src/kernels/block.ts does (gramCost/materializeCost, sliceRows), plus the dense GEMM of biases and LayerNorms.
 *
 * The engine's forward and backward FLOPs per batch are src/model/cost.ts's.
 */
import { TOKEN_BUDGET } from "../model/batch.ts";
import { backwardFlops, engineBatches, forwardFlops } from "../model/cost.ts";
import type { ModelConfig } from "../model/weights/types.ts";
import { gramCost, MAX_EXACT_COLUMNS, materializeCost, pairsFor, slicedLayout } from "./block.ts";
import type { Pair } from "./ort-graphs.ts";
import { includeParam } from "./params.ts";
import { sliceAxes } from "./slice-graph.ts";
import type { Formula, ParamFilter, Strategy } from "./types.ts";

/** One linear layer of the factors: its weight's name (for the parameter filter), shape, and whether T = 1. */
interface LinearShape {
  weight: string;
  bias?: string;
  dIn: number;
  dOut: number;
  /** Applied at the mask position only (the MLM head's dense layer): one token per example. */
  maskOnly: boolean;
}

/** The linear layers and dense (LayerNorm) tensors of a RoBERTa/BERT MLM, in the engine's naming. */
export function modelTensors(cfg: ModelConfig): { linears: LinearShape[]; dense: { param: string; size: number }[] } {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const roberta = cfg.modelType === "roberta";
  const enc = roberta ? "roberta" : "bert";
  const linears: LinearShape[] = [];
  const dense: { param: string; size: number }[] = [];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `${enc}.encoder.layer.${l}.`;
    for (const m of ["query", "key", "value"])
      linears.push({
        weight: `${p}attention.self.${m}.weight`,
        bias: m === "key" ? undefined : `${p}attention.self.${m}.bias`,
        dIn: H,
        dOut: H,
        maskOnly: false,
      });
    linears.push({
      weight: `${p}attention.output.dense.weight`,
      bias: `${p}attention.output.dense.bias`,
      dIn: H,
      dOut: H,
      maskOnly: false,
    });
    linears.push({
      weight: `${p}intermediate.dense.weight`,
      bias: `${p}intermediate.dense.bias`,
      dIn: H,
      dOut: I,
      maskOnly: false,
    });
    linears.push({
      weight: `${p}output.dense.weight`,
      bias: `${p}output.dense.bias`,
      dIn: I,
      dOut: H,
      maskOnly: false,
    });
    for (const ln of ["attention.output.LayerNorm", "output.LayerNorm"])
      for (const w of ["weight", "bias"]) dense.push({ param: `${p}${ln}.${w}`, size: H });
  }
  const head = roberta ? "lm_head" : "cls.predictions.transform";
  linears.push({ weight: `${head}.dense.weight`, bias: `${head}.dense.bias`, dIn: H, dOut: H, maskOnly: true });
  for (const w of ["weight", "bias"]) {
    dense.push({ param: `${enc}.embeddings.LayerNorm.${w}`, size: H });
    dense.push({ param: roberta ? `lm_head.layer_norm.${w}` : `${head}.LayerNorm.${w}`, size: H });
  }
  return { linears, dense };
}

/**
 * Achieved fraction of the Gemm probe's rate (src/kernels/probe.ts) per phase, from the kernel benchmark (README
 * "Benchmarks"): logits and gradients from its run at 14 s and 38 s (Gemm probe ≈ 400 GFLOP/s, load ≈ 2) and this
 * model's FLOPs of that job (5.2 and 11.4 TFLOP); the contraction from the run with slices of 32 rows and stacked
 * eval groups in worker threads (150 s, 27.7 TFLOP by this model, probe 279–284 GFLOP/s). `npm run bench:kernel`
 * prints these fractions for its run as `phase_efficiency`; update them when a phase's code changes.
 */
export const PHASE_EFFICIENCY = { logits: 0.93, gradients: 0.75, contraction: 0.65 } as const;

export interface KernelCostInput {
  cfg: ModelConfig;
  /** Token counts per split: train first, then the eval splits in the order the job computes them. */
  tokens: { train: readonly number[]; evals: Record<string, readonly number[]> };
  nLabelWords: number;
  binary: boolean;
  formulas: readonly Formula[];
  filter?: ParamFilter;
  strategy?: Strategy;
  /** The block plan (src/kernels/plan.ts): eval examples per block, train examples per GEMM, work bytes per call. */
  evalBlock: number;
  trainBlock: number;
  workBytes: number;
}

export interface KernelFlops {
  logits: number;
  gradients: number;
  contraction: number;
  /** `gradients` by split (train, then each eval split). */
  gradientsBySplit: Record<string, number>;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** GEMM FLOPs of the factors graph for examples loaded in chunks (each chunk batched by the engine). */
function gradientFlops(cfg: ModelConfig, chunks: number[][], K: number, C: number, binary: boolean): number {
  let f = 0;
  for (const chunk of chunks)
    for (const [B, T] of engineBatches(chunk, TOKEN_BUDGET.factors))
      f += forwardFlops(cfg, B, T, K, C, binary) + C * backwardFlops(cfg, B, T, K, binary);
  return f;
}

/** Contraction FLOPs of one linear layer for train × one eval block, as block.ts's linearBlock runs it. */
function linearFlops(
  l: LinearShape,
  trainT: readonly number[],
  evalT: readonly number[],
  C: number,
  pairs: readonly Pair[],
  o: KernelCostInput,
): number {
  const { dIn, dOut } = l;
  const B = evalT.length;
  const Tb = l.maskOnly ? 1 : Math.max(1, ...evalT);
  const signPairs = pairs.filter((p) => p !== "PP");
  const wantPP = pairs.includes("PP");
  const strategy = o.strategy ?? "auto";
  let f = 0;
  for (let a0 = 0; a0 < trainT.length; a0 += o.trainBlock) {
    const A = Math.min(o.trainBlock, trainT.length - a0);
    const Ta = l.maskOnly ? 1 : Math.max(1, ...trainT.slice(a0, a0 + A));
    let gram = false;
    if (wantPP && strategy !== "materialize") {
      const fits = 4 * A * Ta * B * Tb * (1 + 2 * C * C) <= o.workBytes;
      gram =
        strategy === "gram" ||
        (fits &&
          gramCost(A, Ta, B, Tb, C, dIn, dOut) < materializeCost(A, Ta, B, Tb, C, dIn, dOut, signPairs.length > 0));
    }
    // Gram: X_a X_bᵀ and Δ_a Δ_bᵀ (the Mul + ReduceSum that combine them are not GEMMs).
    if (gram) f += 2 * A * Ta * B * Tb * dIn + 2 * A * C * Ta * B * C * Tb * dOut;
    const mat = gram ? signPairs : pairs;
    if (mat.length === 0) continue;
    // Eval examples sorted by length into groups, each padded to its own longest (block.ts lengthGroups); slices of
    // s output rows sized for the cache (block.ts linearBlock).
    const trT = trainT.slice(a0, a0 + A).map((t) => (l.maskOnly ? 1 : t));
    const { trainGroups, groups, s } = slicedLayout(
      trT,
      evalT.map((t) => (l.maskOnly ? 1 : t)),
      C,
      dIn,
      dOut,
      signPairs.length > 0,
      o.workBytes,
    );
    const { whole, sliced } = sliceAxes(dIn, dOut);
    for (let s0 = 0; s0 < sliced; s0 += s) {
      const w = Math.min(sliced, s0 + s) - s0;
      // G = Δᵀ X on each train group once per slice and on each eval group, then one [A·C, w·whole] ×
      // [B_g·C, w·whole]ᵀ product per pair and group.
      for (const h of trainGroups) f += 2 * C * w * whole * h.length * Math.max(1, ...h.map((i) => trT[i]));
      for (const g of groups) {
        const Bg = g.length;
        const Tg = Math.max(1, ...g.map((i) => (l.maskOnly ? 1 : evalT[i])));
        f += 2 * C * w * whole * Bg * Tg + mat.length * 2 * A * C * Bg * C * w * whole;
      }
    }
  }
  return f;
}

/** Predicted GEMM FLOPs of a kernel job's three phases (header). */
export function kernelJobFlops(o: KernelCostInput): KernelFlops {
  const C = o.binary ? 1 : o.nLabelWords;
  const K = o.nLabelWords;
  const pairs = pairsFor(o.formulas);
  const filter = o.filter ?? {};
  const all = [o.tokens.train, ...Object.values(o.tokens.evals)];
  let logits = 0;
  for (const split of all)
    for (const [B, T] of engineBatches(split, TOKEN_BUDGET.logits)) logits += forwardFlops(o.cfg, B, T, K, C, o.binary);

  const train = o.tokens.train;
  const trainChunks: number[][] = [];
  for (let s = 0; s < train.length; s = s === 0 ? 32 : s + 8)
    trainChunks.push(train.slice(s, Math.min(train.length, s === 0 ? 32 : s + 8)));
  const blocksOf = (xs: readonly number[]) => {
    const out: number[][] = [];
    for (let b0 = 0; b0 < xs.length; b0 += o.evalBlock) out.push(xs.slice(b0, b0 + o.evalBlock));
    return out;
  };
  const evalChunks = Object.values(o.tokens.evals).flatMap(blocksOf);
  const gradientsBySplit: Record<string, number> = { train: gradientFlops(o.cfg, trainChunks, K, C, o.binary) };
  for (const [name, xs] of Object.entries(o.tokens.evals))
    gradientsBySplit[name] = gradientFlops(o.cfg, blocksOf(xs), K, C, o.binary);
  const gradients = sum(Object.values(gradientsBySplit));

  const { linears, dense } = modelTensors(o.cfg);
  const width =
    sum(linears.filter((l) => l.bias && includeParam(l.bias, filter)).map((l) => l.dOut)) +
    sum(dense.filter((d) => includeParam(d.param, filter)).map((d) => d.size));
  let contraction = 0;
  for (const block of [...blocksOf(train), ...evalChunks]) {
    for (const l of linears)
      if (includeParam(l.weight, filter)) contraction += linearFlops(l, train, block, C, pairs, o);
    // Dense: one [n_train·C, w] × [B·C, w]ᵀ product per pair, in column chunks of at most MAX_EXACT_COLUMNS.
    for (let k0 = 0; k0 < width; k0 += MAX_EXACT_COLUMNS)
      contraction +=
        pairs.length * 2 * train.length * C * block.length * C * (Math.min(width, k0 + MAX_EXACT_COLUMNS) - k0);
  }
  return { logits, gradients, contraction, gradientsBySplit };
}
