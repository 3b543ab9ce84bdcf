import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DATASET_MARKER, readDatasetVariant, writeDatasetVariant } from "../../src/data/dataset-variant.ts";
import { generateKShot, type KShotTask, seedSchedule } from "../../src/data/kshot.ts";
import { writeEvalSubsample } from "../../src/data/subsample.ts";
import { loadTask } from "../../src/prompts/task.ts";

const root = mkdtempSync(join(tmpdir(), "entk-cola-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * The reference's loop for a header-less GLUE task, in NumPy at test time: one line list, shuffled in place by
 * `np.random.seed(s); np.random.shuffle(lines)` for each seed in turn, then grouped by column 1 (insertion order),
 * train = [0:k] and dev = [k:2k] of each label.
 */
const PY = `
import json, sys
import numpy as np
path, k, seeds = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
lines = open(path).readlines()
out = {}
for seed in seeds:
    np.random.seed(seed)
    np.random.shuffle(lines)
    groups = {}
    for line in lines:
        groups.setdefault(line.strip().split("\\t")[1], []).append(line)
    out[seed] = {"train": "".join(l for g in groups.values() for l in g[:k]),
                 "dev": "".join(l for g in groups.values() for l in g[k:2 * k])}
print(json.dumps(out))
`;

describe("CoLA (header-less tsv): one train list shuffled in place across seeds, as the reference does", () => {
  const layout = loadTask("CoLA").data;
  const original = join(root, "original");
  mkdirSync(join(original, layout.dir), { recursive: true });
  // A CoLA-shaped file: source, label, original label, sentence; no header; labels unevenly mixed.
  const trainLines = Array.from(
    { length: 97 },
    (_, i) => `src${i % 7}\t${(i * 7) % 3 === 0 ? 0 : 1}\t\tsentence ${i}\n`,
  );
  writeFileSync(join(original, layout.dir, layout.original.train), trainLines.join(""));
  for (const f of layout.original.eval) writeFileSync(join(original, layout.dir, f), "d\t1\t\tdev sentence\n");
  const task: KShotTask = { name: "CoLA", layout };
  const k = 4;
  const run = (outDir: string, seeds: number[]) =>
    generateKShot({ dataDir: original, outDir, k, seeds, mode: "k-shot", tasks: [task] });
  const read = (outDir: string, seed: number, f: string) =>
    readFileSync(join(outDir, "k-shot", "CoLA", `${k}-${seed}`, f), "utf8");

  it("matches NumPy for two consecutive seeds (100 then 13), whatever order they are listed in", async () => {
    expect(layout.header).toBe(false);
    const out = join(root, "a");
    await run(out, [13, 100]);
    const want = JSON.parse(
      execFileSync("python3", [
        "-c",
        PY,
        join(original, layout.dir, layout.original.train),
        String(k),
        "100,13",
      ]).toString(),
    );
    for (const seed of [100, 13]) {
      expect(read(out, seed, layout.files.train)).toBe(want[seed].train);
      expect(read(out, seed, layout.files.dev)).toBe(want[seed].dev);
    }
    // Seed 13 alone replays seed 100's shuffle first: the same files.
    const alone = join(root, "b");
    await run(alone, [13]);
    expect(read(alone, 13, layout.files.train)).toBe(want[13].train);
    // A fresh shuffle with seed 13 (what copying the rows per seed gives) is a different split.
    const fresh = JSON.parse(
      execFileSync("python3", [
        "-c",
        PY,
        join(original, layout.dir, layout.original.train),
        String(k),
        "13",
      ]).toString(),
    );
    expect(fresh[13].train).not.toBe(want[13].train);
  });

  it("processes seeds in the reference's order, replaying unlisted ones before the last listed one", () => {
    expect(seedSchedule([13, 21, 42, 87, 100])).toEqual([100, 13, 21, 42, 87].map((seed) => ({ seed, write: true })));
    expect(seedSchedule([42])).toEqual([
      { seed: 100, write: false },
      { seed: 13, write: false },
      { seed: 21, write: false },
      { seed: 42, write: true },
    ]);
    expect(seedSchedule([7, 100, 7])).toEqual([
      { seed: 100, write: true },
      { seed: 7, write: true },
    ]);
  });

  it("split directories (and eval subsamples of them) carry original/'s dataset-variant marker", async () => {
    const out = join(root, "c");
    await run(out, [100]);
    expect(readDatasetVariant(join(out, "k-shot", "CoLA", `${k}-100`))).toBe("lm-bff"); // no marker: LM-BFF's
    await writeDatasetVariant(original, "kernel-paper");
    await run(out, [100]);
    const split = join(out, "k-shot", "CoLA", `${k}-100`);
    expect(readDatasetVariant(split)).toBe("kernel-paper");
    const sub = join(root, "sub");
    await writeEvalSubsample(split, sub, layout, 1);
    expect(readDatasetVariant(sub)).toBe("kernel-paper");
    writeFileSync(join(sub, DATASET_MARKER), '{"variant": "glue"}');
    expect(() => readDatasetVariant(sub)).toThrow(/entk-dataset\.json: "variant" must be one of lm-bff, kernel-paper/);
    rmSync(join(original, DATASET_MARKER));
  });
});
