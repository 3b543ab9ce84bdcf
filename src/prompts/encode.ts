import type { Example } from "../data/readers.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";
import type { TaskDef } from "./task.ts";
import {
  type EncodedExample,
  encodeNoPrompt,
  encodePrompt,
  type Piece,
  resolveLabelWords,
  validateTemplate,
} from "./template.ts";

export interface TaskEncoder {
  task: TaskDef;
  /** Label-word ids in label order (empty in no-prompt mode). */
  labelWordIds: number[];
  pieces: Piece[];
  /** Encode one example; its label string becomes the class index (position in `task.labels`). */
  encode(ex: Example): EncodedExample;
}

/**
 * Prepare a task for encoding: validate the template against the task's sentences, resolve the label words.
 * `prompt: false` gives the no-prompt ("finetune") encoding.
 */
export function taskEncoder(tok: EntkTokenizer, task: TaskDef, opts: { prompt?: boolean } = {}): TaskEncoder {
  const prompt = opts.prompt ?? true;
  const numSent = task.data.textColumns.length;
  const pieces = prompt ? validateTemplate(task.template, numSent, task.labels.length, task.name) : [];
  const labelWordIds = prompt ? resolveLabelWords(tok, task.mapping, task.labels) : [];
  const labelIndex = new Map(task.labels.map((l, i) => [l, i]));
  return {
    task,
    labelWordIds,
    pieces,
    encode(ex) {
      const label = labelIndex.get(ex.label);
      if (label === undefined)
        throw new Error(
          `${ex.source}: unknown label ${JSON.stringify(ex.label)} (expected one of ${task.labels.join(", ")})`,
        );
      if (!prompt) return encodeNoPrompt(tok, ex.texts, label, task.maxLength);
      return encodePrompt(tok, pieces, ex.texts, label, labelWordIds, task, ex.source);
    },
  };
}

/** Encode a list of examples with a task's prompt (or without, `prompt: false`). */
export function encodeExamples(
  tok: EntkTokenizer,
  task: TaskDef,
  examples: readonly Example[],
  opts: { prompt?: boolean } = {},
): EncodedExample[] {
  const enc = taskEncoder(tok, task, opts);
  return examples.map((e) => enc.encode(e));
}
