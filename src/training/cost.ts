/**
 * Cost model of a fine-tuning job (README "Planning a sweep"): GEMM FLOPs (2 per multiply-add) of its training
 * steps, dev evaluations and final test evaluation, from the model's shape and the examples' token counts.
 * A training step is taken as 3 forwards of its batch (the backward ≈ 2 forwards: input and weight cotangents of
 * every linear), as scripts/bench-ft.ts counts it; a batch pads to its longest example, and batches are random
 * draws of `batchSize` train examples (src/training/sampler.ts), so the padded length is the expected maximum of
 * such a draw. Not checked against counted FLOPs (the kernel model is: test/kernels/cost.test.ts).
 */

import { TOKEN_BUDGET } from "../model/batch.ts";
import { engineBatches, forwardFlops } from "../model/cost.ts";
import type { ModelConfig } from "../model/weights/types.ts";

/**
 * Achieved fraction of the Gemm probe's rate during a training step (README "Benchmarks", `bench-ft`: 0.53–0.60 of
 * the MatMul probe for AdamW, SGD 0.62, SignGD 0.57).
 */
export const FT_EFFICIENCY = 0.55;

/** Expected longest of `b` examples drawn without replacement from these lengths. */
export function expectedMaxLength(lengths: readonly number[], b: number): number {
  const xs = [...lengths].sort((a, c) => a - c);
  const n = xs.length;
  const k = Math.min(b, n);
  // P(max ≤ x_(i)) = C(i, k) / C(n, k), i = 1..n (1-based ranks of the sorted lengths).
  let prev = 0;
  let e = 0;
  for (let i = k; i <= n; i++) {
    let p = 1;
    for (let j = 0; j < k; j++) p *= (i - j) / (n - j);
    e += (p - prev) * xs[i - 1];
    prev = p;
  }
  return e;
}

export interface FinetuneCostInput {
  cfg: ModelConfig;
  tokens: { train: readonly number[]; dev: readonly number[]; test: readonly number[] };
  nLabelWords: number;
  batchSize: number;
  steps: number;
  /** Steps between dev evaluations ("epoch": once per pass over the train set). */
  evalEvery: number | "epoch";
  /** Also the post-hoc linearization of the best checkpoint (f₀ + J·τ on dev and test ≈ 3 forwards each). */
  posthocLinear: boolean;
  /** The linearized model (`ft-lin`): each step and evaluation also pushes a JVP, taken as 2× the plain cost. */
  linearized: boolean;
}

/** Predicted GEMM FLOPs of a fine-tuning job: training steps and evaluations. */
export function finetuneFlops(o: FinetuneCostInput): { train: number; eval: number } {
  const K = o.nLabelWords;
  const fwd = (split: readonly number[]) =>
    engineBatches(split, TOKEN_BUDGET.logits).reduce((a, [B, T]) => a + forwardFlops(o.cfg, B, T, K, K, false), 0);
  const B = Math.min(o.batchSize, o.tokens.train.length);
  const T = expectedMaxLength(o.tokens.train, B);
  const lin = o.linearized ? 2 : 1;
  const train = lin * o.steps * 3 * forwardFlops(o.cfg, B, T, K, K, false);
  const perEpoch = Math.ceil(o.tokens.train.length / o.batchSize);
  const every = o.evalEvery === "epoch" ? perEpoch : o.evalEvery;
  const devEvals = Math.ceil(o.steps / every);
  const evals = lin * (devEvals * fwd(o.tokens.dev) + fwd(o.tokens.test));
  const posthoc = o.posthocLinear ? 3 * (fwd(o.tokens.dev) + fwd(o.tokens.test)) : 0;
  return { train, eval: evals + posthoc };
}

/** Parameters of the encoder + MLM head (no embeddings' rows beyond what a step touches are counted as work). */
export function paramCount(cfg: ModelConfig): number {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const layer = 4 * H * H + 4 * H + 2 * H * I + I + H + 4 * H;
  const emb = (cfg.vocabSize + cfg.maxPositionEmbeddings + cfg.typeVocabSize) * H + 2 * H;
  const head = H * H + H + 2 * H + cfg.vocabSize;
  return cfg.numHiddenLayers * layer + emb + head;
}

/**
 * Estimated peak memory of a fine-tuning job: weights, gradients and two optimizer moments (4 float32 copies of
 * every parameter; AdamW's moments — SGD needs fewer, so this is an upper estimate), one more copy in the runtime's
 * session, and the activations a step keeps for its backward (per layer ≈ B·T·(12H + 2I) + 3·heads·B·T² floats).
 */
export function finetunePeakBytes(cfg: ModelConfig, batchSize: number, T: number): number {
  const H = cfg.hiddenSize;
  const acts =
    cfg.numHiddenLayers *
    (batchSize * T * (12 * H + 2 * cfg.intermediateSize) + 3 * cfg.numAttentionHeads * batchSize * T * T);
  return 4 * (5 * paramCount(cfg) + acts);
}
