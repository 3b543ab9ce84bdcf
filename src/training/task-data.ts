import type { MetricName } from "../data/metrics.ts";
import { readSplit } from "../data/readers.ts";
import { subsample } from "../data/subsample.ts";
import { taskEncoder } from "../prompts/encode.ts";
import type { TaskDef } from "../prompts/task.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";
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
 * label words (the prompt-based FT input of docs/protocol.md §7.1). `limitTest` keeps a seeded subsample of N test
 * examples (`subsample` in src/data: the same N and file give the same examples for every seed).
 */
export function loadFinetuneData(
  task: TaskDef,
  splitDir: string,
  tok: EntkTokenizer,
  opts: { limitTest?: number; skipBadRows?: boolean; onSkip?: (message: string) => void; prompt?: boolean } = {},
): FinetuneData {
  // Without a prompt the inputs are unprompted (`encodeNoPrompt`); the label words still name the classes.
  const enc = taskEncoder(tok, task, { prompt: opts.prompt });
  const labelWordIds = opts.prompt === false ? taskEncoder(tok, task).labelWordIds : enc.labelWordIds;
  const read = (split: "train" | "dev" | "test", limit?: number): LabeledExample[] => {
    const { examples: all } = readSplit(splitDir, task.data, split, task.labels, {
      skipBadRows: opts.skipBadRows,
      onSkip: opts.onSkip,
    });
    const examples = limit !== undefined ? subsample(all, limit) : all;
    if (examples.length === 0)
      throw new Error(`${splitDir}: the ${split} file ${task.data.files[split]} has no examples`);
    return examples.map((e) => {
      const { inputIds, maskPos, label } = enc.encode(e);
      return { input: { inputIds, maskPos }, label };
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
