import type { MetricName } from "../data/metrics.ts";
import { readSplit } from "../data/readers.ts";
import { subsample } from "../data/subsample.ts";
import { taskEncoder } from "../prompts/encode.ts";
import type { TaskDef } from "../prompts/task.ts";
import type { EncodedExample } from "../prompts/template.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";
import type { LabeledExample } from "../training/types.ts";

export type SplitName = "train" | "dev" | "test";

export interface PromptedSplitsOptions {
  /** The splits to read, in this order (default train, dev, test). */
  splits?: readonly SplitName[];
  /**
   * Keep a seeded subsample of N examples of each eval split (`subsample` in src/data: the same N and file give
   * the same examples for every seed); `{ test: N }` cuts the test split only.
   */
  limitEval?: number | { dev?: number; test?: number };
  /** Refuse a split file without examples (the file and split named). */
  nonEmpty?: boolean;
  /** Skip malformed data rows (each reported through `onSkip`) instead of failing. */
  skipBadRows?: boolean;
  onSkip?: (message: string) => void;
  /** false: the no-prompt encoding (`encodeNoPrompt`); the label words still name the classes. Default true. */
  prompt?: boolean;
}

export interface PromptedSplits {
  /** Label-word token ids, in class order (`task.labels`). */
  labelWordIds: number[];
  metric: MetricName;
  splits: Partial<Record<SplitName, EncodedExample[]>>;
}

/**
 * Read the train/dev/test files of one k-shot split directory and prompt-encode them with the task's template and
 * label words (docs/protocol.md §2): the inputs of both the kernel and the fine-tuning pipelines.
 */
export function loadPromptedSplits(
  task: TaskDef,
  splitDir: string,
  tok: EntkTokenizer,
  opts: PromptedSplitsOptions = {},
): PromptedSplits {
  const enc = taskEncoder(tok, task);
  const inputEnc = opts.prompt === false ? taskEncoder(tok, task, { prompt: false }) : enc;
  const limits = typeof opts.limitEval === "number" ? { dev: opts.limitEval, test: opts.limitEval } : opts.limitEval;
  const splits: Partial<Record<SplitName, EncodedExample[]>> = {};
  for (const split of opts.splits ?? (["train", "dev", "test"] as const)) {
    const { examples: all } = readSplit(splitDir, task.data, split, task.labels, {
      skipBadRows: opts.skipBadRows,
      onSkip: opts.onSkip,
    });
    const limit = split === "train" ? undefined : limits?.[split];
    const examples = limit !== undefined ? subsample(all, limit) : all;
    if (opts.nonEmpty && examples.length === 0)
      throw new Error(`${splitDir}: the ${split} file ${task.data.files[split]} has no examples`);
    splits[split] = examples.map((e) => inputEnc.encode(e));
  }
  return { labelWordIds: enc.labelWordIds, metric: task.metric, splits };
}

export interface FinetuneData {
  /** Label-word token ids, in class order (`task.labels`). */
  labelWordIds: number[];
  metric: MetricName;
  train: LabeledExample[];
  dev: LabeledExample[];
  test: LabeledExample[];
}

/**
 * The prompt-based FT input of docs/protocol.md §7.1: every split non-empty, as labeled examples. `limitTest`
 * keeps a seeded subsample of N test examples (see PromptedSplitsOptions.limitEval).
 */
export function loadFinetuneData(
  task: TaskDef,
  splitDir: string,
  tok: EntkTokenizer,
  opts: { limitTest?: number; skipBadRows?: boolean; onSkip?: (message: string) => void; prompt?: boolean } = {},
): FinetuneData {
  const { limitTest, ...read } = opts;
  const d = loadPromptedSplits(task, splitDir, tok, { ...read, limitEval: { test: limitTest }, nonEmpty: true });
  const labeled = (xs: EncodedExample[] = []): LabeledExample[] =>
    xs.map(({ inputIds, maskPos, label }) => ({ input: { inputIds, maskPos }, label }));
  return {
    labelWordIds: d.labelWordIds,
    metric: d.metric,
    train: labeled(d.splits.train),
    dev: labeled(d.splits.dev),
    test: labeled(d.splits.test),
  };
}
