import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateKShot } from "../../src/data/kshot.ts";
import { readSplit } from "../../src/data/readers.ts";
import { subsample, subsampleIndices, writeEvalSubsample } from "../../src/data/subsample.ts";
import { loadTask } from "../../src/prompts/task.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const text = (path: string) => readFileSync(path, "utf8");

describe("seeded eval subsample", () => {
  it("is numpy's RandomState(0).permutation(total)[:n], in file order", () => {
    // sorted(np.random.RandomState(0).permutation(20)[:5]) and (1000)[:10]
    expect(subsampleIndices(20, 5)).toEqual([1, 8, 10, 18, 19]);
    expect(subsampleIndices(1000, 10)).toEqual([27, 231, 298, 306, 553, 672, 706, 859, 971, 993]);
    expect(subsampleIndices(3, 5)).toEqual([0, 1, 2]);
    expect(subsampleIndices(1000, 10, 1)).not.toEqual(subsampleIndices(1000, 10));
    // The item-level form (what `entk kernel --limit-eval` and `entk finetune --limit-test` use) picks those rows.
    expect(subsample([..."abcdefghijklmnopqrst"], 5)).toEqual(["b", "i", "k", "s", "t"]);
    expect(() => subsampleIndices(10, 0)).toThrow(/integer >= 1, got 0/);
  });

  it("cuts a csv split's dev and test (train and small files unchanged) without skewing to one class", async () => {
    const task = loadTask("spam");
    const out = mkdtempSync(join(tmpdir(), "entk-subsample-"));
    // The bundled spam originals with the test file grouped by label (as LM-BFF's mpqa is): the first 40 rows
    // are one class, so a head-of-file cut would be one-sided.
    const dataDir = join(out, "original");
    mkdirSync(join(dataDir, "spam"), { recursive: true });
    copyFileSync(join(root, "datasets/original/spam/train.csv"), join(dataDir, "spam/train.csv"));
    const testRows = text(join(root, "datasets/original/spam/test.csv")).split(/(?<=\n)/);
    writeFileSync(join(dataDir, "spam/test.csv"), [...testRows].sort((a, b) => a[0].localeCompare(b[0])).join(""));
    await generateKShot({
      dataDir,
      outDir: out,
      k: 4,
      seeds: [13],
      mode: "k-shot",
      tasks: [{ name: task.name, layout: task.data }],
    });
    const src = join(out, "k-shot", "spam", "4-13");
    const dst = join(out, "limited");
    expect(await writeEvalSubsample(src, dst, task.data, 40)).toEqual({ dev: 8, test: 40 });
    expect(text(join(dst, "train.csv"))).toBe(text(join(src, "train.csv")));
    expect(text(join(dst, "dev.csv"))).toBe(text(join(src, "dev.csv")));
    const full = readSplit(src, task.data, "test", task.labels).examples;
    const cut = readSplit(dst, task.data, "test", task.labels).examples;
    const keep = subsampleIndices(full.length, 40);
    expect(cut.map((e) => [e.texts, e.label])).toEqual(keep.map((i) => [full[i].texts, full[i].label]));
    expect(new Set(full.slice(0, 40).map((e) => e.label)).size).toBe(1);
    const ones = cut.filter((e) => e.label === task.labels[1]).length;
    expect(ones).toBeGreaterThan(10);
    expect(ones).toBeLessThan(30);
  });

  it("keeps a tsv split's header and whole lines", async () => {
    const task = loadTask("RTE");
    // An RTE-layout split written here: a header line, then index, two sentences and the label, tab-separated.
    const src = mkdtempSync(join(tmpdir(), "entk-subsample-src-"));
    const tsv = (n: number) =>
      `index\tsentence1\tsentence2\tlabel\n${Array.from(
        { length: n },
        (_, i) => `${i}\tPremise number ${i} is here.\tHypothesis ${i}.\t${i % 3 ? "entailment" : "not_entailment"}\n`,
      ).join("")}`;
    for (const [f, n] of [
      ["train.tsv", 32],
      ["dev.tsv", 32],
      ["test.tsv", 50],
    ] as const)
      writeFileSync(join(src, f), tsv(n));
    const dst = mkdtempSync(join(tmpdir(), "entk-subsample-"));
    expect(await writeEvalSubsample(src, dst, task.data, 10)).toEqual({ dev: 10, test: 10 });
    for (const f of ["dev.tsv", "test.tsv"]) {
      const [header, ...lines] = text(join(src, f)).split(/(?<=\n)/);
      const cut = text(join(dst, f)).split(/(?<=\n)/);
      expect(cut[0]).toBe(header);
      expect(cut.slice(1)).toEqual(subsampleIndices(lines.length, 10).map((i) => lines[i]));
    }
    expect(readSplit(dst, task.data, "test", task.labels).examples).toHaveLength(10);
  });
});
