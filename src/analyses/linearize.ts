/**
 * Post-hoc linearization (docs/linearization.md): with τ = θ_ckpt − θ₀, compare the model f(x; θ₀ + ατ) with its
 * linearization f_lin(x; θ₀ + ατ) = f(x; θ₀) + α·J_θ₀(x)·τ on eval splits. J·τ is one exact forward-mode product
 * per example (createJvpModel), shared by every α since f_lin is linear in α; each α ∉ {0} costs one forward.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { argmaxRows, classificationMetrics, type MetricName } from "../data/metrics.ts";
import { createJvpModel } from "../model/jvp.ts";
import { type LoadModelOptions, loadModel } from "../model/load.ts";
import { createTrainableModel, lengthBatches } from "../model/prompt-model.ts";
import type { PromptInput } from "../model/types.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { loadPromptedSplits, type SplitName } from "../pipelines/prompted-splits.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { tensorValues } from "../training/hf-checkpoint.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { writeNpy } from "../util/npy.ts";
import { progressBar } from "../util/progress.ts";
import { taskVector } from "./task-vectors.ts";

export type EvalSplit = SplitName;
export const DEFAULT_ALPHAS = [0, 0.5, 1];

/** f(x; θ) [n, K] for parameters θ given as arrays (eval mode), batched by length. */
export async function logitsAt(
  weights: LoadedWeights,
  labelWordIds: number[],
  params: Map<string, Float32Array>,
  inputs: PromptInput[],
  opts: { threads?: number } = {},
): Promise<Float32Array> {
  const m = createTrainableModel(weights, labelWordIds, { threads: opts.threads });
  for (const [n, v] of params) if (m.params.has(n)) m.params.set(n, v);
  const K = labelWordIds.length;
  const out = new Float32Array(inputs.length * K);
  for (const idx of lengthBatches(inputs, 32, 2048)) {
    const z = await m.logits(idx.map((i) => inputs[i]));
    idx.forEach((i, b) => {
      out.set(z.subarray(b * K, (b + 1) * K), i * K);
    });
  }
  return out;
}

export interface AlphaSummary {
  alpha: number;
  /** Task metrics (acc, plus f1 for MRPC/QQP) of f(θ₀ + ατ) and of f_lin(θ₀ + ατ). */
  model: Record<string, number>;
  linearized: Record<string, number>;
  /** Fraction of examples where the two predict the same class. */
  agreement: number;
  /** ‖f − f_lin‖ / ‖f − f₀‖ over the split (Frobenius); null at α = 0 (both are f₀). */
  relDistance: number | null;
}

export interface SplitSummary {
  n: number;
  /** Metrics of f(θ₀). */
  base: Record<string, number>;
  alphas: AlphaSummary[];
}

export interface LinearizeSummary {
  task: string;
  model: string;
  checkpoint: string;
  metric: MetricName;
  labelWordIds: number[];
  /** ‖τ‖₂ over the parameters f uses. */
  tauNorm: number;
  splits: Partial<Record<EvalSplit, SplitSummary>>;
  seconds: number;
}

export interface LinearizeOptions {
  /** Base model θ₀ (directory or Hub id). */
  model: string;
  /** The fine-tuned checkpoint directory (θ₀ + τ). */
  checkpoint: string;
  task: string | TaskDef;
  splitDir: string;
  evalSplits?: EvalSplit[];
  alphas?: number[];
  /** Seeded subsample of N examples per eval split (as --limit-eval). */
  limitEval?: number;
  /** Output directory for the .npy files and summary.json; none: compute only. */
  out?: string;
  threads?: number;
  loadOptions?: LoadModelOptions;
  quiet?: boolean;
  /** Skip malformed data rows (each reported through `onSkip`) instead of failing, as fine-tuning does. */
  skipBadRows?: boolean;
  onSkip?: (message: string) => void;
}

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

/** Compare f and f_lin along the path θ₀ + ατ on each eval split; writes OUT/*.npy and OUT/summary.json. */
export async function linearize(o: LinearizeOptions): Promise<LinearizeSummary> {
  const t0 = Date.now();
  const alphas = o.alphas ?? DEFAULT_ALPHAS;
  const splits = o.evalSplits ?? ["dev", "test"];
  const base = await loadModel(o.model, o.loadOptions);
  const ckpt = await loadModel(o.checkpoint, o.loadOptions);
  const tau = taskVector(base, ckpt, o.checkpoint);
  const tok = await loadTokenizer(base.source.dir);
  const task = typeof o.task === "string" ? loadTask(o.task) : o.task;
  const data = loadPromptedSplits(task, o.splitDir, tok, {
    splits,
    limitEval: o.limitEval,
    nonEmpty: true,
    skipBadRows: o.skipBadRows,
    onSkip: o.onSkip,
  });
  const lw = data.labelWordIds;
  const K = lw.length;
  const jm = createJvpModel(base, lw, { threads: o.threads });
  if (o.out) await mkdir(o.out, { recursive: true });
  const total = splits.reduce((s, sp) => s + data.splits[sp]!.length, 0) * (1 + alphas.filter((a) => a !== 0).length);
  const bar = progressBar("linearize", total, { quiet: o.quiet, unit: "passes" });
  const summary: LinearizeSummary = {
    task: task.name,
    model: o.model,
    checkpoint: o.checkpoint,
    metric: data.metric,
    labelWordIds: lw,
    tauNorm: Math.sqrt([...tau.values()].reduce((s, a) => s + norm(a) ** 2, 0)),
    splits: {},
    seconds: 0,
  };
  for (const split of splits) {
    const ex = data.splits[split]!;
    const inputs = ex.map(({ inputIds, maskPos }) => ({ inputIds, maskPos }));
    const labels = ex.map((e) => e.label);
    const metrics = (z: ArrayLike<number>) => classificationMetrics(argmaxRows(z, K), labels, data.metric);
    const { f: f0, jv } = await jm.jvp(inputs, tau);
    bar.tick(inputs.length);
    const write = async (name: string, a: Float64Array | Float32Array) => {
      if (o.out) await writeNpy(join(o.out, `${name}.npy`), Float32Array.from(a), [inputs.length, K]);
    };
    await write(`logits.${split}.f0`, f0);
    await write(`jvp.${split}`, jv);
    if (o.out) await writeNpy(join(o.out, `labels.${split}.npy`), Int32Array.from(labels), [labels.length]);
    const rows: AlphaSummary[] = [];
    for (const alpha of alphas) {
      const flin = f0.map((x, i) => x + alpha * jv[i]);
      let f: Float64Array = f0;
      if (alpha !== 0) {
        const theta = new Map<string, Float32Array>();
        for (const [n, t] of tau) {
          const b = tensorValues(base.tensors.get(n)!);
          theta.set(
            n,
            b.map((x, i) => x + alpha * t[i]),
          );
        }
        f = Float64Array.from(await logitsAt(base, lw, theta, inputs, { threads: o.threads }));
        bar.tick(inputs.length);
      }
      await write(`logits.${split}.alpha${alpha}`, f);
      await write(`logits.${split}.lin.alpha${alpha}`, flin);
      const pf = argmaxRows(f, K);
      const pl = argmaxRows(flin, K);
      const moved = norm(f.map((x, i) => x - f0[i]));
      rows.push({
        alpha,
        model: metrics(f),
        linearized: metrics(flin),
        agreement: pf.reduce((s, p, i) => s + (p === pl[i] ? 1 : 0), 0) / Math.max(1, pf.length),
        relDistance: alpha === 0 || moved === 0 ? null : norm(f.map((x, i) => x - flin[i])) / moved,
      });
    }
    summary.splits[split] = { n: inputs.length, base: metrics(f0), alphas: rows };
  }
  bar.stop();
  summary.seconds = (Date.now() - t0) / 1000;
  if (o.out) await writeFileAtomic(join(o.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
