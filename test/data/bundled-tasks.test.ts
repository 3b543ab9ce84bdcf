import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readCsv } from "../../src/data/readers.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { tokenizerFromJson } from "../../src/tokenizer/index.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const DATA = join(root, "datasets/original");

/** Rows per label of the bundled files, as datasets/README.md states them. */
const SIZES = {
  spam: { train: 1000, test: 500 },
  sotu: { train: 500, test: 250 },
} as const;

describe("the bundled tasks (datasets/original, built by scripts/build-datasets.ts)", () => {
  for (const [name, size] of Object.entries(SIZES)) {
    it(`${name}: read by the generic reader, balanced, de-duplicated, short, train and test disjoint`, () => {
      const task = loadTask(name);
      const read = (f: "train" | "test") => readCsv(join(DATA, task.data.dir, `${f}.csv`), task.data, task.labels);
      const train = read("train").examples;
      const test = read("test").examples;
      for (const [rows, n] of [
        [train, size.train],
        [test, size.test],
      ] as const) {
        for (const l of task.labels) expect(rows.filter((e) => e.label === l)).toHaveLength(n);
        expect(rows.every((e) => e.texts[0].length <= 200 && e.texts[0].trim().split(/\s+/).length >= 6)).toBe(true);
        expect(rows.every((e) => e.texts[0] === e.texts[0].trim() && !/\s{2}|[\t\n]/.test(e.texts[0]))).toBe(true);
      }
      const norm = (t: string) =>
        t
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, " ")
          .trim();
      const all = [...train, ...test].map((e) => norm(e.texts[0]));
      expect(new Set(all).size).toBe(all.length);
      // no HTML or entities left
      const markup =
        /<\/?(html|body|p|br|font|div|span|table|td|b|a|li|ul|strong)\b[^>]*>|&(amp|lt|gt|nbsp|quot|reg);/i;
      expect([...train, ...test].filter((e) => markup.test(e.texts[0])).map((e) => e.texts[0])).toEqual([]);
    });
  }

  // roberta-base's own BPE files (vocab.json + merges.txt), when the environment provides them
  const tokDir = process.env.ENTK_ROBERTA_TOKENIZER_DIR;
  it.skipIf(!tokDir || !existsSync(join(tokDir, "merges.txt")))(
    "every label word is one token with its leading space under roberta-base's BPE (ENTK_ROBERTA_TOKENIZER_DIR)",
    () => {
      const dir = tokDir as string;
      const vocab = JSON.parse(readFileSync(join(dir, "vocab.json"), "utf8")) as Record<string, number>;
      const merges = readFileSync(join(dir, "merges.txt"), "utf8")
        .split("\n")
        .filter((l) => l.length > 0 && !l.startsWith("#version"));
      const tok = tokenizerFromJson({
        pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
        model: { type: "BPE", vocab, merges },
      });
      expect(tok.tokenize(" great")).toEqual(["Ġgreat"]);
      for (const name of Object.keys(SIZES)) {
        const task = loadTask(name);
        for (const l of task.labels) expect(tok.tokenize(` ${task.mapping[l]}`)).toEqual([`Ġ${task.mapping[l]}`]);
      }
    },
  );
});
