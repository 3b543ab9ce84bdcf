/**
 * The two reference points beside kernels and fine-tuning (docs/no-prompt-and-lora.md): zero-shot prompting (the
 * prompt MLM at θ₀, argmax over the label words) and the linear probe (LogisticRegressionCV, multinomial, on
 * frozen features of the training set: the mask feature h̃, or h_<s> without a prompt; docs/protocol.md §7.3).
 */
import { classificationMetrics, metricRecord, predictLabels } from "../data/metrics.ts";
import { loadModel } from "../model/load.ts";
import type { Device } from "../model/runtime/providers.ts";
import type { PromptInput } from "../model/types.ts";
import { loadTask, type TaskDef } from "../prompts/task.ts";
import { fitProbe, probePredict } from "../solvers/probe.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { loadPromptedSplits } from "./prompted-splits.ts";
import { zeroShot } from "./zero-shot.ts";

export interface BaselineOptions {
  model: string;
  revision?: string;
  offline?: boolean;
  task: string | TaskDef;
  splitDir: string;
  /** Seeded subsample of N dev and test examples (as the other pipelines). */
  limitEval?: number;
  device?: Device;
}

export interface BaselineResult {
  dev: Record<string, number>;
  test: Record<string, number>;
  weightsHash: string;
  /** Probe only: the chosen inverse regularization C and the fit's warnings. */
  probe?: { C: number; warnings: string[] };
}

async function loadTaskAndModel(o: BaselineOptions) {
  const task = typeof o.task === "string" ? loadTask(o.task) : o.task;
  const weights = await loadModel(o.model, { revision: o.revision, offline: o.offline });
  return { task, weights, tok: await loadTokenizer(weights.source.dir) };
}

async function load(o: BaselineOptions, prompt: boolean) {
  const { task, weights, tok } = await loadTaskAndModel(o);
  const data = loadPromptedSplits(task, o.splitDir, tok, { limitEval: o.limitEval, nonEmpty: true, prompt });
  const split = (name: "train" | "dev" | "test") => data.splits[name] ?? [];
  return { task, weights, data, split };
}

const labelsOf = (xs: { label: number }[]) => xs.map((x) => x.label);
const inputsOf = (xs: PromptInput[]) => xs.map(({ inputIds, maskPos }) => ({ inputIds, maskPos }));

/** Zero-shot prompting: dev and test metrics of argmax_c f_c(x; θ₀) over the label words (zero-shot.ts). */
export async function runZeroShot(o: BaselineOptions): Promise<BaselineResult> {
  const { task, weights, tok } = await loadTaskAndModel(o);
  const score = async (split: "dev" | "test") =>
    metricRecord(await zeroShot(weights, tok, task, o.splitDir, split, { limit: o.limitEval, device: o.device }));
  return { dev: await score("dev"), test: await score("test"), weightsHash: weights.hash };
}

/** The linear probe: fitted on the training set's features, scored on dev and test. */
export async function runProbe(o: BaselineOptions & { noPrompt?: boolean }): Promise<BaselineResult> {
  const { task, weights, data, split } = await load(o, !o.noPrompt);
  const variant = o.noPrompt ? { noPrompt: true } : {};
  const numLabels = task.labels.length;
  const lw = o.noPrompt ? [] : data.labelWordIds;
  const train = split("train").map((x) => ({ input: x, label: x.label }));
  const m = await fitProbe(weights, lw, train, numLabels, variant, { device: o.device });
  const score = async (name: "dev" | "test") => {
    const xs = split(name);
    const z = await probePredict(m, weights, lw, inputsOf(xs), variant, { device: o.device });
    return classificationMetrics(predictLabels(z, xs.length, numLabels), labelsOf(xs), data.metric);
  };
  return {
    dev: await score("dev"),
    test: await score("test"),
    weightsHash: weights.hash,
    probe: { C: m.C, warnings: m.warnings },
  };
}
