/**
 * Zero-shot prompt accuracy (docs/protocol.md §1.2 prediction rule with no training): each example's label is the
 * label word with the largest logit at <mask> under the task's template, from the model as it is.
 */
import { argmaxRows, rocAuc, type ScoredMetrics, scoreMetrics } from "../data/metrics.ts";
import { createPromptModel } from "../model/prompt-model.ts";
import type { Device } from "../model/runtime/providers.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import type { TaskDef } from "../prompts/task.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";
import { loadPromptedSplits, type SplitName } from "./prompted-splits.ts";

export interface ZeroShotResult extends ScoredMetrics {
  task: string;
  split: SplitName;
  n: number;
  /** The share of the examples given the most often predicted class (1: the same answer for every example). */
  topClassShare: number;
  /**
   * Two-class tasks with both classes present: ROC AUC of logit(label-1 word) − logit(label-0 word) for label 1,
   * i.e. whether the model ranks the examples right whatever threshold the argmax implies (0.5: no signal).
   */
  marginAuc?: number;
}

/**
 * Score `split` of the split directory `dir` (a k-shot split or an LM-BFF `original/<task>` folder). `limit`: a
 * seeded subsample of that many examples (src/data `subsample`).
 */
export async function zeroShot(
  weights: LoadedWeights,
  tok: EntkTokenizer,
  task: TaskDef,
  dir: string,
  split: SplitName,
  opts: { limit?: number; threads?: number; device?: Device; skipBadRows?: boolean; onSkip?: (m: string) => void } = {},
): Promise<ZeroShotResult> {
  const data = loadPromptedSplits(task, dir, tok, {
    splits: [split],
    nonEmpty: true,
    skipBadRows: opts.skipBadRows,
    onSkip: opts.onSkip,
    ...(opts.limit !== undefined && split !== "train" ? { limitEval: { [split]: opts.limit } } : {}),
  });
  const examples = data.splits[split]!;
  const model = createPromptModel(weights, data.labelWordIds, { threads: opts.threads, device: opts.device });
  const logits = await model.logits(examples.map((e) => ({ inputIds: e.inputIds, maskPos: e.maskPos })));
  const pred = argmaxRows(logits, data.labelWordIds.length);
  const labels = examples.map((e) => e.label);
  const m = scoreMetrics(pred, labels, data.metric);
  const counts = new Map<number, number>();
  for (const p of pred) counts.set(p, (counts.get(p) ?? 0) + 1);
  const topClassShare = Math.max(...counts.values()) / pred.length;
  let marginAuc: number | undefined;
  if (data.labelWordIds.length === 2 && labels.includes(0) && labels.includes(1))
    marginAuc = rocAuc(
      examples.map((_, i) => logits[i * 2 + 1] - logits[i * 2]),
      labels,
    );
  return {
    task: task.name,
    split,
    n: examples.length,
    topClassShare,
    ...(marginAuc !== undefined && { marginAuc }),
    ...m,
  };
}
