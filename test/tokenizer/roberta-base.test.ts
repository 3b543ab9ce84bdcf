/**
 * Acceptance on roberta-base's own tokenizer files (ENTK_ROBERTA_TOKENIZER_DIR: vocab.json + merges.txt, which the
 * repository does not ship): entk's tokenizer, assembled from them in roberta-base's tokenizer.json layout, gives the
 * ids roberta-base is known to use, and every bundled task's label words are single tokens there (the protocol
 * needs one logit per label word, docs/protocol.md §1.1).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listTasks, loadTask } from "../../src/prompts/task.ts";
import { resolveLabelWords } from "../../src/prompts/template.ts";
import { type EntkTokenizer, tokenizerFromJson } from "../../src/tokenizer/index.ts";
import { needs, robertaTokenizer } from "../helpers/shared-data.ts";

function robertaBase(): EntkTokenizer {
  const vocab = JSON.parse(readFileSync(robertaTokenizer("vocab.json"), "utf8")) as Record<string, number>;
  const merges = readFileSync(robertaTokenizer("merges.txt"), "utf8")
    .split("\n")
    .filter((l) => l.length > 0 && !l.startsWith("#version"));
  const special = (id: number, content: string, lstrip = false) => ({
    id,
    content,
    single_word: false,
    lstrip,
    rstrip: false,
    normalized: !lstrip,
    special: true,
  });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return tokenizerFromJson(
    {
      version: "1.0",
      added_tokens: [
        ...["<s>", "<pad>", "</s>", "<unk>"].map((t) => special(vocab[t], t)),
        special(vocab["<mask>"], "<mask>", true),
      ],
      pre_tokenizer: byteLevel,
      decoder: byteLevel,
      model: { type: "BPE", vocab, merges }, // the library's defaults are roberta-base's
    },
    {},
    robertaTokenizer("vocab.json"),
  );
}

describe("roberta-base's tokenizer files", needs("ENTK_ROBERTA_TOKENIZER_DIR"), () => {
  it("give roberta-base's ids", () => {
    const tok = robertaBase();
    expect([tok.clsId, tok.padId, tok.sepId, tok.unkId, tok.maskId, tok.vocabSize]).toEqual([0, 1, 2, 3, 50264, 50265]);
    expect(tok.encode("Hello world")).toEqual([31414, 232]);
    expect(tok.encode(" great")).toEqual([372]);
    expect(tok.encode(" terrible")).toEqual([6587]);
  });

  it("hold every bundled task's label words as single tokens", () => {
    const tok = robertaBase();
    const tasks = listTasks();
    expect(tasks.length).toBeGreaterThanOrEqual(14);
    for (const name of tasks) {
      const task = loadTask(name);
      const ids = resolveLabelWords(tok, task.mapping, task.labels);
      expect(new Set(ids).size, name).toBe(task.labels.length);
    }
    const sst2 = loadTask("SST-2");
    expect(resolveLabelWords(tok, sst2.mapping, sst2.labels)).toEqual([6587, 372]);
  });
});
