import { readSplit } from "../data/readers.ts";
import type { TaskDef } from "../prompts/task.ts";
import { encodePrompt, resolveLabelWords, validateTemplate } from "../prompts/template.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";
import type { MetricName } from "./metrics.ts";
import type { LabeledExample } from "./types.ts";

export interface FinetuneData {
  /** Label-word token ids, in class order (`task.labels`). */
  labelWordIds: number[];
  metric: MetricName;
  train: LabeledExample[];
  dev: LabeledExample[];
  test: LabeledExample[];
}

/**
 * Read and prompt-encode the train/dev/test files of one k-shot split directory with the task's template and
 * label words (the prompt-based FT input of REFERENCE §7.1). `limitTest` keeps only the first N test examples
 * (quick runs; the test file order is fixed, so the subset is too).
 */
export function loadFinetuneData(
  task: TaskDef,
  splitDir: string,
  tok: EntkTokenizer,
  opts: { limitTest?: number; skipBadRows?: boolean; onSkip?: (message: string) => void } = {},
): FinetuneData {
  const pieces = validateTemplate(task.template, task.data.textColumns.length, task.labels.length, task.name);
  const labelWordIds = resolveLabelWords(tok, task.mapping, task.labels);
  const promptOpts = {
    maxLength: task.maxLength,
    firstSentLimit: task.firstSentLimit,
    otherSentLimit: task.otherSentLimit,
  };
  const read = (split: "train" | "dev" | "test", limit?: number): LabeledExample[] => {
    const { examples: all } = readSplit(splitDir, task.data, split, task.labels, {
      skipBadRows: opts.skipBadRows,
      onSkip: opts.onSkip,
    });
    const examples = limit !== undefined ? all.slice(0, limit) : all;
    if (examples.length === 0)
      throw new Error(`${splitDir}: the ${split} file ${task.data.files[split]} has no examples`);
    return examples.map((e) => {
      const label = task.labels.indexOf(e.label);
      const enc = encodePrompt(tok, pieces, e.texts, label, labelWordIds, promptOpts, e.source);
      return { input: { inputIds: enc.inputIds, maskPos: enc.maskPos }, label };
    });
  };
  return {
    labelWordIds,
    metric: task.metric,
    train: read("train"),
    dev: read("dev"),
    test: read("test", opts.limitTest),
  };
}
