import { appendFileSync, existsSync, readFileSync, statSync, truncateSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { MetricName } from "../data/metrics.ts";
import { cleanStaleTempsTree, writeFileAtomic } from "../util/atomic.ts";
import { canonicalJson } from "../util/canonical.ts";
import { ensureDir } from "../util/io.ts";
import { acquireLock } from "../util/lock.ts";
import { progressBar } from "../util/progress.ts";
import { loadCheckpointInto, replaceCheckpoint } from "./checkpoint-dir.ts";
import { clipCoefficient, globalGradNorm } from "./clip.ts";
import { FINETUNE_DEFAULTS } from "./defaults.ts";
import { evaluate } from "./evaluate.ts";
import { logLogits } from "./logit-log.ts";
import { createOptimizer, type OptimizerKind } from "./optimizers.ts";
import { Rng } from "./rng.ts";
import { EpochSampler, type SamplerState } from "./sampler.ts";
import { linearWarmupFactor } from "./schedule.ts";
import { openSnapshot, writeSnapshot } from "./snapshot.ts";
import type { CheckpointIO, FinetuneModel, LabeledExample } from "./types.ts";

/** A run's hyperparameters as its result record reports them (defaults filled in). */
export interface FinetuneHyperparams {
  optimizer: OptimizerKind;
  lr: number;
  batchSize: number;
  /** Number of optimizer steps (the reference's max_steps; see `finetune` on its extra lr-0 step). */
  steps: number;
  /** Evaluate dev every N steps, or at each epoch end ("epoch", the reference's behaviour). */
  evalEvery: number | "epoch";
  /** Linear warmup steps. */
  warmupSteps: number;
  /** Weight decay, on all but biases and LayerNorm weights. */
  weightDecay: number;
  /** Global gradient-norm clip (0 disables). */
  maxGradNorm: number;
  seed: number;
  /** Dev selection metric: acc, or f1 (positive class 1) for MRPC/QQP. */
  metric: MetricName;
}

/** The hyperparameters with defaults (FINETUNE_DEFAULTS). */
type Defaulted = "evalEvery" | "warmupSteps" | "weightDecay" | "maxGradNorm";

export interface FinetuneOptions
  extends Omit<FinetuneHyperparams, Defaulted>,
    Partial<Pick<FinetuneHyperparams, Defaulted>> {
  model: FinetuneModel;
  train: LabeledExample[];
  dev: LabeledExample[];
  test?: LabeledExample[];
  betas?: [number, number];
  eps?: number;
  evalBatchSize?: number;
  /** Output directory: curve.jsonl, best/ (checkpoint), state.snap (resume snapshot), result.json. */
  outDir: string;
  checkpointIO: CheckpointIO;
  /** Snapshot every N steps (default: after every dev evaluation). */
  snapshotEvery?: number;
  /** Ignore and delete an existing snapshot/result in outDir instead of resuming from it. */
  fresh?: boolean;
  /** Extra fields for the result record (task, model, split dir, ...); part of the run's identity for resume. */
  record?: Record<string, unknown>;
  /** Stop (Ctrl-C, a sweep runner): a snapshot of the current step is written first, then the run throws. */
  signal?: AbortSignal;
  /**
   * Write the eval-mode logits of train, dev and test at step 0 and every N steps (logit-log.ts), for
   * `entk dynamics --compare`. Not part of the run's identity.
   */
  logLogitsEvery?: number;
  /** The result record's method (default `ft:<optimizer>`; linearized fine-tuning: `ft-lin:<optimizer>`). */
  method?: string;
  /** Called after every step (after any evaluation and snapshot); tests use it to interrupt a run. */
  onStep?: (step: number) => void | Promise<void>;
  quiet?: boolean;
}

export interface CurvePoint {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  grad_norm: number;
  dev?: Record<string, number>;
}

export interface FinetuneResult extends FinetuneHyperparams, Record<string, unknown> {
  method: string;
  /** Step whose parameters were kept (best dev metric, first one on ties). */
  bestStep: number;
  /** Dev and test metrics of the best checkpoint, reloaded from disk. */
  dev: Record<string, number>;
  test?: Record<string, number>;
  checkpointDir: string;
  curvePath: string;
}

interface SnapshotMeta {
  version: 1;
  config: Record<string, unknown>;
  step: number;
  sampler: SamplerState;
  dropoutRng: number[];
  optimizer: { t: number };
  best: { value: number; step: number } | null;
  curveBytes: number;
}

/**
 * Prompt-based fine-tuning following the reference trainer (docs/protocol.md §7.1): shuffled mini-batches, per step
 * loss/grad with dropout, global-norm clipping, an SGD / SignGD / AdamW step at the linear-warmup lr, dev
 * evaluation every `evalEvery` steps or at epoch ends keeping the strictly best checkpoint, then the best
 * checkpoint is reloaded and evaluated on dev and test.
 *
 * Deliberate differences from the reference:
 * - It runs exactly `steps` steps. The reference loop stops only when global_step > max_steps, so it runs one
 *   extra step at lr = lr·factor(max_steps) = 0. That step changes no parameter (every update, weight decay
 *   included, is scaled by lr) and is never followed by an evaluation, so dropping it changes no result.
 * - If no evaluation has happened by the last step (evalEvery > steps, or "epoch" with steps shorter than an
 *   epoch), the final model is evaluated and kept; the reference would then fail to reload a checkpoint.
 * - Shuffling and dropout seeds come from entk's own PRNG (rng.ts), not torch's.
 *
 * Resume: the state after a step (params, optimizer moments, step, sampler order/position, PRNG states,
 * best-so-far, curve length) is snapshotted atomically to outDir/state.snap; a run started on the same outDir
 * with the same configuration continues from it and ends with the same results as an uninterrupted run (given
 * a deterministic model: same machine and thread count). A finished run (result.json) is returned as is. Either
 * one with another configuration is an error unless `fresh`.
 */
export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  await ensureDir(o.outDir);
  cleanStaleTempsTree(o.outDir);
  // One run per output directory: a second process on it is refused, naming the holder.
  const lock = await acquireLock(join(o.outDir, ".entk.lock"), { wait: false, what: "entk finetune" });
  try {
    return await finetuneLocked(o);
  } finally {
    lock.release();
  }
}

async function finetuneLocked(o: FinetuneOptions): Promise<FinetuneResult> {
  const hp: FinetuneHyperparams = {
    optimizer: o.optimizer,
    lr: o.lr,
    batchSize: o.batchSize,
    steps: o.steps,
    evalEvery: o.evalEvery ?? FINETUNE_DEFAULTS.evalEvery,
    warmupSteps: o.warmupSteps ?? FINETUNE_DEFAULTS.warmupSteps,
    weightDecay: o.weightDecay ?? FINETUNE_DEFAULTS.weightDecay,
    maxGradNorm: o.maxGradNorm ?? FINETUNE_DEFAULTS.maxGradNorm,
    seed: o.seed,
    metric: o.metric,
  };
  const { evalEvery, warmupSteps, weightDecay, maxGradNorm } = hp;
  const evalBatchSize = o.evalBatchSize ?? FINETUNE_DEFAULTS.evalBatchSize;
  validate(o, evalEvery, warmupSteps);
  const { model, outDir } = o;
  const params = model.params;
  // The run's identity for resume (compared as canonical JSON).
  const config: Record<string, unknown> = {
    ...hp,
    betas: o.betas ?? FINETUNE_DEFAULTS.betas,
    eps: o.eps ?? FINETUNE_DEFAULTS.eps,
    nTrain: o.train.length,
    nDev: o.dev.length,
    nTest: o.test?.length ?? 0,
    ...(o.record ?? {}),
  };
  const curvePath = join(outDir, "curve.jsonl");
  const bestDir = join(outDir, "best");
  const snapPath = join(outDir, "state.snap");
  const resultPath = join(outDir, "result.json");

  if (!o.fresh && !existsSync(snapPath) && existsSync(resultPath)) {
    const prev = JSON.parse(readFileSync(resultPath, "utf8")) as { config: unknown; result: FinetuneResult };
    if (!sameJson(prev.config, config))
      throw new Error(
        `${resultPath}: ${outDir} holds a finished run with another configuration (${diffKeys(prev.config, config)}); ` +
          "use another output directory or start fresh",
      );
    await loadCheckpointInto(o.checkpointIO, bestDir, params);
    return prev.result;
  }

  const optimizer = createOptimizer(o.optimizer, params, { weightDecay, betas: o.betas, eps: o.eps });
  const sampler = new EpochSampler(o.train.length, o.batchSize, o.seed);
  const dropoutRng = new Rng(o.seed, 2);
  let step = 0;
  let best: { value: number; step: number } | null = null;

  if (!o.fresh && existsSync(snapPath)) {
    const snap = await openSnapshot(snapPath);
    const meta = snap.meta as SnapshotMeta;
    if (meta?.version !== 1) throw new Error(`${snapPath}: unsupported snapshot version`);
    if (!sameJson(meta.config, config))
      throw new Error(
        `${snapPath}: snapshot is from a different configuration (${diffKeys(meta.config, config)}); ` +
          "use another output directory or start fresh",
      );
    const opt = optimizer.stateTensors();
    await snap.readInto((name) => (name.startsWith("p:") ? params.get(name.slice(2)) : opt.get(name.slice(2))));
    optimizer.setStateMeta(meta.optimizer);
    sampler.setState(meta.sampler);
    dropoutRng.setState(meta.dropoutRng);
    step = meta.step;
    best = meta.best;
    const curveSize = existsSync(curvePath) ? statSync(curvePath).size : -1;
    if (curveSize < meta.curveBytes)
      throw new Error(`${curvePath}: shorter than the snapshot in ${snapPath} expects (${meta.curveBytes} bytes)`);
    truncateSync(curvePath, meta.curveBytes);
  } else {
    const logDir = join(outDir, "logits");
    for (const p of [curvePath, snapPath, resultPath, bestDir, `${bestDir}.tmp`, `${bestDir}.old`, logDir])
      await rm(p, { recursive: true, force: true });
    appendFileSync(curvePath, "");
  }

  let snapStep = step;
  const snapshot = async () => {
    snapStep = step;
    const tensors = new Map<string, Float32Array>();
    for (const [k, a] of params) tensors.set(`p:${k}`, a);
    for (const [k, a] of optimizer.stateTensors()) tensors.set(`o:${k}`, a);
    const meta: SnapshotMeta = {
      version: 1,
      config,
      step,
      sampler: sampler.getState(),
      dropoutRng: dropoutRng.getState(),
      optimizer: optimizer.stateMeta(),
      best,
      curveBytes: statSync(curvePath).size,
    };
    await writeSnapshot(snapPath, meta, tensors);
  };

  const logSplits = { train: o.train, dev: o.dev, ...(o.test ? { test: o.test } : {}) };
  const logDue = (s: number) => o.logLogitsEvery !== undefined && s % o.logLogitsEvery === 0;
  if (step === 0 && logDue(0)) await logLogits(model, logSplits, outDir, 0, evalBatchSize);
  const bar = progressBar("finetune", o.steps, { quiet: o.quiet, unit: "steps" });
  bar.tick(step);
  while (step < o.steps) {
    if (o.signal?.aborted) {
      bar.stop();
      if (step > snapStep) await snapshot();
      throw new Error(`finetune: aborted after step ${step} of ${o.steps}; ${snapPath} holds it, rerun to resume`);
    }
    const batch = sampler.next();
    const examples = batch.indices.map((i) => o.train[i]);
    const lr = o.lr * linearWarmupFactor(step, warmupSteps, o.steps);
    const dropoutSeed = dropoutRng.nextU32();
    const { loss, grads, sparse } = await model.lossAndGrad(
      examples.map((e) => e.input),
      examples.map((e) => e.label),
      { dropoutSeed },
    );
    if (!Number.isFinite(loss)) throw new Error(`finetune: loss is ${loss} at step ${step + 1} (lr ${lr})`);
    const gradNorm = globalGradNorm([...grads.values(), ...[...(sparse?.values() ?? [])].map((s) => s.values)]);
    optimizer.step(params, grads, lr, clipCoefficient(gradNorm, maxGradNorm), sparse);
    step += 1;

    const point: CurvePoint = { step, epoch: batch.epoch, loss, lr, grad_norm: gradNorm };
    const evalDue =
      (evalEvery === "epoch" ? batch.epochEnd : step % evalEvery === 0) || (step === o.steps && best === null);
    if (evalDue) {
      point.dev = await evaluate(model, o.dev, o.metric, evalBatchSize);
      const value = point.dev[o.metric];
      if (best === null || value > best.value) {
        await replaceCheckpoint(o.checkpointIO, bestDir, params);
        best = { value, step };
      }
    }
    if (logDue(step)) await logLogits(model, logSplits, outDir, step, evalBatchSize);
    appendFileSync(curvePath, `${JSON.stringify(point)}\n`);
    const snapDue = o.snapshotEvery ? step % o.snapshotEvery === 0 : evalDue;
    if (snapDue && step < o.steps) await snapshot();
    bar.tick();
    await o.onStep?.(step);
  }
  bar.stop();

  if (best === null) throw new Error("finetune: internal error: no evaluation ran");
  await loadCheckpointInto(o.checkpointIO, bestDir, params);
  const result: FinetuneResult = {
    ...(o.record ?? {}),
    method: o.method ?? `ft:${o.optimizer}`,
    ...hp,
    bestStep: best.step,
    dev: await evaluate(model, o.dev, o.metric, evalBatchSize),
    ...(o.test ? { test: await evaluate(model, o.test, o.metric, evalBatchSize) } : {}),
    checkpointDir: bestDir,
    curvePath,
  };
  await writeFileAtomic(resultPath, `${JSON.stringify({ config, result }, null, 2)}\n`);
  await rm(snapPath, { force: true });
  return result;
}

function validate(o: FinetuneOptions, evalEvery: number | "epoch", warmupSteps: number): void {
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!posInt(o.steps)) throw new Error(`finetune: steps must be a positive integer, got ${o.steps}`);
  if (!posInt(o.batchSize)) throw new Error(`finetune: batch size must be a positive integer, got ${o.batchSize}`);
  if (!(o.lr >= 0) || !Number.isFinite(o.lr)) throw new Error(`finetune: lr must be a finite number ≥ 0, got ${o.lr}`);
  if (evalEvery !== "epoch" && !posInt(evalEvery))
    throw new Error(`finetune: evalEvery must be a positive integer or "epoch", got ${evalEvery}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0)
    throw new Error(`finetune: warmup steps must be an integer ≥ 0, got ${warmupSteps}`);
  if (o.dev.length === 0) throw new Error("finetune: the dev set is empty (needed for model selection)");
  const C = o.model.numLabels;
  for (const [split, xs] of [
    ["train", o.train],
    ["dev", o.dev],
    ["test", o.test ?? []],
  ] as const)
    xs.forEach((e, i) => {
      if (!Number.isInteger(e.label) || e.label < 0 || e.label >= C)
        throw new Error(`finetune: ${split} example ${i} has label ${e.label}, expected an integer in [0, ${C})`);
    });
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function diffKeys(a: unknown, b: Record<string, unknown>): string {
  const ao = (a ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(b)]);
  const diff = [...keys].filter((k) => JSON.stringify(ao[k]) !== JSON.stringify(b[k]));
  return diff.map((k) => `${k}: ${JSON.stringify(ao[k])} → ${JSON.stringify(b[k])}`).join(", ");
}
