/**
 * Masked-LM pretraining (RoBERTa's recipe, docs/pretraining.md): packed sequences drawn in a seeded order (a fresh
 * permutation of the corpus windows each epoch), dynamic 80/10/10 masking of 15% of the tokens, dropout, AdamW with
 * linear warmup and linear decay, gradient accumulation over micro-batches, global-norm clipping. Every random draw
 * is a function of (seed, step, micro-batch), so a run resumed from `state.snap` continues exactly as an
 * uninterrupted one. Writes into `out`:
 *  - `state.snap`: parameters, AdamW moments and counters (every `snapshotEvery` steps, and on stop);
 *  - `model/`: the current weights as a Hugging Face model directory (at every held-out evaluation and at the end);
 *  - `curve.jsonl`: one line per held-out evaluation (step, tokens seen, lr, train loss, held-out loss and top-1);
 *  - `result.json` when finished.
 */
import { existsSync, readFileSync } from "node:fs";
import { appendFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createMlmModel, type MlmBatch, type MlmModel } from "../../model/mlm-model.ts";
import type { LoadedWeights } from "../../model/weights/types.ts";
import type { EntkTokenizer } from "../../tokenizer/types.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { OptionError } from "../../util/errors.ts";
import { progressBar } from "../../util/progress.ts";
import { replaceCheckpoint } from "../checkpoint-dir.ts";
import { clipCoefficient, globalGradNorm } from "../clip.ts";
import { hfCheckpointIO } from "../hf-checkpoint.ts";
import { createOptimizer } from "../optimizers.ts";
import { Rng, shuffleInPlace } from "../rng.ts";
import { linearWarmupFactor } from "../schedule.ts";
import { openSnapshot, writeSnapshot } from "../snapshot.ts";
import { PackedWindows } from "./corpus.ts";
import { type MaskingOptions, maskSequences } from "./masking.ts";

export interface PretrainHyperparams {
  seqLen: number;
  /** Sequences per micro-batch (one graph run). */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  accumulate: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  /** 0 disables clipping. */
  maxGradNorm: number;
  seed: number;
  maskRate: number;
}

export const PRETRAIN_DEFAULTS: PretrainHyperparams = {
  seqLen: 128,
  batchSize: 16,
  accumulate: 4,
  steps: 1000,
  lr: 1e-3,
  warmupSteps: 100,
  weightDecay: 0.01,
  betas: [0.9, 0.98],
  eps: 1e-6,
  maxGradNorm: 1,
  seed: 0,
  maskRate: 0.15,
};

export interface PretrainOptions extends PretrainHyperparams {
  weights: LoadedWeights;
  tokenizer: EntkTokenizer;
  train: Uint16Array;
  heldout: Uint16Array;
  out: string;
  /** Evaluate held-out MLM loss / top-1 every n steps (and at the end). */
  evalEvery: number;
  /** Held-out sequences evaluated (the first ones, with a fixed masking). */
  evalSequences: number;
  snapshotEvery: number;
  threads?: number;
  signal?: AbortSignal;
  quiet?: boolean;
  /** Plain log lines (non-terminal runs): called at every evaluation and every `logEvery` steps. */
  log?: (line: string) => void;
  logEvery?: number;
  /** Start over, discarding a snapshot in `out`. */
  fresh?: boolean;
  /** Facts recorded in result.json (corpus, model source). */
  provenance?: Record<string, unknown>;
}

export interface CurvePoint {
  step: number;
  tokens: number;
  lr: number;
  trainLoss: number;
  heldoutLoss: number;
  heldoutTop1: number;
  heldoutMasked: number;
  elapsedS: number;
}

export interface PretrainResult {
  steps: number;
  tokens: number;
  final: CurvePoint;
  modelDir: string;
  curvePath: string;
  hyperparams: PretrainHyperparams;
  elapsedS: number;
}

interface SnapMeta {
  step: number;
  tokens: number;
  elapsedS: number;
  optimizer: { t: number };
  fingerprint: string;
  trainLossSum: number;
  trainLossCount: number;
}

const HP_KEYS = Object.keys(PRETRAIN_DEFAULTS) as (keyof PretrainHyperparams)[];

function validate(o: PretrainHyperparams): void {
  const posInt = ["seqLen", "batchSize", "accumulate", "steps"] as const;
  for (const k of posInt)
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`pretrain: ${k} must be an integer ≥ 1, got ${o[k]}`);
  if (!(o.lr > 0)) throw new Error(`pretrain: lr must be > 0, got ${o.lr}`);
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0 || o.warmupSteps > o.steps)
    throw new Error(`pretrain: warmup steps must be an integer in [0, steps], got ${o.warmupSteps}`);
  if (!(o.maskRate > 0 && o.maskRate < 1)) throw new Error(`pretrain: mask rate must be in (0, 1), got ${o.maskRate}`);
}

/** acc += w·g (one monomorphic loop: ≈ 10× a loop over a Map of mixed array types). */
function axpy(acc: Float32Array, g: Float32Array, w: number): void {
  for (let i = 0; i < acc.length; i++) acc[i] += w * g[i];
}

/** Row ids[t] of the dense [V, H] gradient `dst` += the cotangent row t of the gathered embeddings. */
function scatterAddRows(dst: Float32Array, ids: Int32Array, rows: Float32Array, H: number): void {
  for (let t = 0; t < ids.length; t++) {
    const d = ids[t] * H;
    const s = t * H;
    for (let h = 0; h < H; h++) dst[d + h] += rows[s + h];
  }
}

/** A generator for (seed, purpose, step, micro-batch): every draw of the run is a function of these. */
function rngFor(seed: number, purpose: number, step: number, micro = 0): Rng {
  return new Rng(seed, ((purpose * 0x10000 + micro) ^ Math.imul(step + 1, 0x9e3779b1)) >>> 0);
}

/** RoBERTa's layout: the specials come first (ids < 4) and <mask> last; ordinary pieces in between. */
export function maskingFor(tok: EntkTokenizer, rate: number): MaskingOptions {
  return {
    rate,
    maskId: tok.maskId,
    firstPiece: Math.max(tok.clsId, tok.padId, tok.sepId, tok.unkId) + 1,
    vocabEnd: tok.maskId,
  };
}

/**
 * The held-out set: `n` windows spread evenly over the held-out stream (all of them when it has fewer), masked once
 * with a generator fixed by `seed`, in batches of `batchSize` rows.
 */
export function heldoutBatches(
  held: PackedWindows,
  masking: MaskingOptions,
  n: number,
  batchSize: number,
  seed: number,
): MlmBatch[] {
  const nEval = Math.min(n, held.count);
  const stride = held.count / nEval;
  const rng = rngFor(seed, 7, 0);
  const out: MlmBatch[] = [];
  for (let s = 0; s < nEval; s += batchSize) {
    const rows = Math.min(batchSize, nEval - s);
    const ids = new Int32Array(rows * held.seqLen);
    for (let r = 0; r < rows; r++) held.write(Math.floor((s + r) * stride), ids, r * held.seqLen);
    out.push(maskSequences(ids, held.seqLen, masking, rng));
  }
  return out;
}

/** Mean MLM loss and top-1 accuracy over every masked position of the batches (eval mode). */
export async function evaluateMlm(
  model: MlmModel,
  batches: MlmBatch[],
): Promise<{ loss: number; top1: number; count: number }> {
  let loss = 0;
  let hits = 0;
  let count = 0;
  for (const b of batches) {
    const r = await model.evaluate(b);
    loss += r.loss * r.count;
    hits += r.hits;
    count += r.count;
  }
  return { loss: loss / count, top1: hits / count, count };
}

export async function runPretrain(o: PretrainOptions): Promise<PretrainResult> {
  validate(o);
  const hp = Object.fromEntries(HP_KEYS.map((k) => [k, o[k]])) as unknown as PretrainHyperparams;
  const cfg = o.weights.config;
  const tok = o.tokenizer;
  if (tok.vocabSize > cfg.vocabSize)
    throw new Error(`tokenizer has ${tok.vocabSize} ids, the model's vocabulary ${cfg.vocabSize}`);
  const posLimit =
    cfg.modelType === "roberta" ? cfg.maxPositionEmbeddings - cfg.padTokenId - 1 : cfg.maxPositionEmbeddings;
  if (o.seqLen > posLimit)
    throw new OptionError(
      "seqLen",
      (n) => `pretrain: ${n("seqLen")} ${o.seqLen} exceeds the model's ${posLimit} positions`,
    );
  await mkdir(o.out, { recursive: true });
  const snapPath = join(o.out, "state.snap");
  const curvePath = join(o.out, "curve.jsonl");
  const modelDir = join(o.out, "model");
  if (o.fresh) for (const f of [snapPath, curvePath, join(o.out, "result.json")]) await rm(f, { force: true });

  const train = new PackedWindows(o.train, o.seqLen, tok.clsId, tok.sepId);
  const held = new PackedWindows(o.heldout, o.seqLen, tok.clsId, tok.sepId);
  const masking = maskingFor(tok, o.maskRate);

  const model = createMlmModel(o.weights, { threads: o.threads });
  const params = model.params;
  const opt = createOptimizer("adam", params, { weightDecay: o.weightDecay, betas: o.betas, eps: o.eps });
  const fingerprint = JSON.stringify({ hp, trainTokens: o.train.length, weights: o.weights.hash });

  let step = 0;
  let tokens = 0;
  let elapsedBefore = 0;
  let lossSum = 0;
  let lossCount = 0;
  if (existsSync(snapPath)) {
    const snap = await openSnapshot(snapPath);
    const meta = snap.meta as SnapMeta;
    if (meta.fingerprint !== fingerprint)
      throw new OptionError(
        "fresh",
        (n) =>
          `${snapPath}: snapshot of a run with other settings (hyperparameters, corpus or start model); ` +
          `rerun with the same options, or ${n("fresh")} to start over`,
      );
    const state = opt.stateTensors();
    await snap.readInto((name) => (name.startsWith("param:") ? params.get(name.slice(6)) : state.get(name)));
    opt.setStateMeta(meta.optimizer);
    ({ step, tokens } = meta);
    elapsedBefore = meta.elapsedS;
    lossSum = meta.trainLossSum;
    lossCount = meta.trainLossCount;
    // A crash after an evaluation but before its snapshot left curve points the resumed run will write again.
    if (existsSync(curvePath)) {
      const kept = readCurve(curvePath).filter((p) => p.step <= step);
      await writeFileAtomic(curvePath, kept.map((p) => `${JSON.stringify(p)}\n`).join(""));
    }
    const resultPath = join(o.out, "result.json");
    if (step === o.steps && existsSync(resultPath))
      return JSON.parse(readFileSync(resultPath, "utf8")) as PretrainResult; // finished before
  }
  const io = hfCheckpointIO(o.weights);

  const evalBatches = heldoutBatches(held, masking, o.evalSequences, o.batchSize, o.seed);
  const evaluate = () => evaluateMlm(model, evalBatches);

  // The window order: a seeded permutation of the training windows per epoch.
  const perms = new Map<number, Int32Array>();
  const windowOf = (k: number) => {
    const epoch = Math.floor(k / train.count);
    let p = perms.get(epoch);
    if (!p) {
      const a = Array.from({ length: train.count }, (_, i) => i);
      shuffleInPlace(a, rngFor(o.seed, 3, epoch));
      p = Int32Array.from(a);
      perms.clear();
      perms.set(epoch, p);
    }
    return p[k % train.count];
  };

  const H = cfg.hiddenSize;
  const wordEmbName = [...params.keys()].find((n) => n.endsWith("embeddings.word_embeddings.weight"))!;
  const wordGrad = new Float32Array(params.get(wordEmbName)!.length);

  const started = Date.now();
  const elapsed = () => elapsedBefore + (Date.now() - started) / 1000;
  const snapshot = async () => {
    const tensors = new Map<string, Float32Array>();
    for (const [n, p] of params) tensors.set(`param:${n}`, p);
    for (const [n, a] of opt.stateTensors()) tensors.set(n, a);
    const meta: SnapMeta = {
      step,
      tokens,
      elapsedS: elapsed(),
      optimizer: opt.stateMeta(),
      fingerprint,
      trainLossSum: lossSum,
      trainLossCount: lossCount,
    };
    await writeSnapshot(snapPath, meta, tensors);
  };
  let last: CurvePoint | undefined;
  const evalPoint = async (lr: number) => {
    const e = await evaluate();
    const point: CurvePoint = {
      step,
      tokens,
      lr,
      trainLoss: lossCount ? lossSum / lossCount : Number.NaN,
      heldoutLoss: e.loss,
      heldoutTop1: e.top1,
      heldoutMasked: e.count,
      elapsedS: Math.round(elapsed()),
    };
    lossSum = 0;
    lossCount = 0;
    await appendFile(curvePath, `${JSON.stringify(point)}\n`);
    await replaceCheckpoint(io, modelDir, params);
    o.log?.(
      `eval step ${step}: held-out loss ${point.heldoutLoss.toFixed(4)} top-1 ${(100 * point.heldoutTop1).toFixed(2)}% ` +
        `(train loss ${point.trainLoss.toFixed(4)}, ${tokens} tokens, ${point.elapsedS} s)`,
    );
    last = point;
    return point;
  };
  if (step === 0 && !existsSync(curvePath)) await evalPoint(0);

  const bar = progressBar("pretrain", o.steps, { quiet: o.quiet, unit: "steps" });
  bar.tick(step);
  const rateStart = { t: Date.now(), tokens };
  try {
    while (step < o.steps) {
      if (o.signal?.aborted) break;
      // Gradients summed over the micro-batches (the first one's arrays taken as they are, no copy); the mean is
      // folded into the optimizer's gradient scale together with the clipping factor.
      let grads: Map<string, Float32Array> | undefined;
      wordGrad.fill(0);
      let stepLoss = 0;
      for (let m = 0; m < o.accumulate; m++) {
        const ids = new Int32Array(o.batchSize * o.seqLen);
        for (let r = 0; r < o.batchSize; r++)
          train.write(windowOf((step * o.accumulate + m) * o.batchSize + r), ids, r * o.seqLen);
        const batch = maskSequences(ids, o.seqLen, masking, rngFor(o.seed, 1, step, m));
        const dropSeed = rngFor(o.seed, 2, step, m).nextU32();
        const r = await model.lossAndGrad(batch, dropSeed);
        stepLoss += r.loss / o.accumulate;
        if (!grads) grads = new Map([...r.grads, [r.wordEmb, wordGrad]]);
        else for (const [n, g] of r.grads) axpy(grads.get(n)!, g, 1);
        scatterAddRows(wordGrad, batch.inputIds, r.wordRows, H);
        tokens += batch.inputIds.length;
      }
      if (!Number.isFinite(stepLoss)) throw new Error(`pretrain: loss is ${stepLoss} at step ${step + 1}`);
      const lr = o.lr * linearWarmupFactor(step, o.warmupSteps, o.steps);
      const sum = grads!;
      const mean = 1 / o.accumulate;
      const scale = clipCoefficient(mean * globalGradNorm(sum.values()), o.maxGradNorm) * mean;
      opt.step(params, sum, lr, scale);
      step += 1;
      lossSum += stepLoss;
      lossCount += 1;
      const rate = (tokens - rateStart.tokens) / Math.max((Date.now() - rateStart.t) / 1000, 1e-3);
      bar.tick(1, `${Math.round(rate)} tok/s | loss ${stepLoss.toFixed(3)}`);
      if (o.logEvery && step % o.logEvery === 0)
        o.log?.(
          `step ${step}/${o.steps} loss ${stepLoss.toFixed(4)} lr ${lr.toExponential(2)} ${Math.round(rate)} tok/s`,
        );
      if (step % o.evalEvery === 0 || step === o.steps) await evalPoint(lr);
      if (step % o.snapshotEvery === 0 || step === o.steps) await snapshot();
    }
  } finally {
    bar.stop();
  }
  if (step < o.steps) {
    await snapshot();
    throw new Error(`pretrain: stopped at step ${step}/${o.steps}; state saved in ${snapPath} (rerun to resume)`);
  }
  if (!last) last = await evalPoint(0);
  const result: PretrainResult = {
    steps: step,
    tokens,
    final: last,
    modelDir,
    curvePath,
    hyperparams: hp,
    elapsedS: Math.round(elapsed()),
    ...(o.provenance ? { provenance: o.provenance } : {}),
  };
  await writeFileAtomic(join(o.out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The curve of a pretraining output directory. */
export function readCurve(path: string): CurvePoint[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CurvePoint);
}
