import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatCsv, pandasValue, parseCsv } from "../../src/data/csv.ts";
import { generateKShot } from "../../src/data/kshot.ts";
import { MT19937 } from "../../src/data/mt19937.ts";
import { readSplit } from "../../src/data/readers.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { lmbff, lmbffChecksums, needs } from "../helpers/shared-data.ts";

const md5 = (p: string) => createHash("md5").update(readFileSync(p)).digest("hex");

describe("task layouts read LM-BFF's official 16-shot splits of MNLI, SNLI, QNLI, QQP", needs("ENTK_LMBFF_DIR"), () => {
  for (const name of ["MNLI", "SNLI", "QNLI", "QQP"]) {
    it(name, () => {
      const sums = lmbffChecksums();
      const task = loadTask(name);
      for (const seed of [13, 21, 42, 87, 100]) {
        const dir = lmbff("k-shot", name, `16-${seed}`);
        for (const split of ["train", "dev"] as const) {
          const f = task.data.files[split];
          expect(md5(join(dir, f)), `${name}/16-${seed}/${f}`).toBe(sums.get(`${name}/16-${seed}/${f}`));
          const r = readSplit(dir, task.data, split, task.labels);
          expect(r.examples.length).toBe(16 * task.labels.length);
          expect(r.examples.every((e) => e.texts.length === 2 && e.texts.every((t) => t.length > 0))).toBe(true);
          // Grouped by label, 16 each, in LM-BFF's first-appearance order.
          const counts = new Map<string, number>();
          for (const e of r.examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
          expect([...counts.values()]).toEqual(task.labels.map(() => 16));
        }
      }
    });
  }
});

describe("k-shot-1k-test on csv tasks", needs("ENTK_LMBFF_DIR"), () => {
  const out = mkdtempSync(join(tmpdir(), "entk-1k-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("sst-5: test.csv = the seed-42 sample of 1,000 rows in sample order; train/dev as in k-shot mode", async () => {
    const task = loadTask("sst-5");
    const dataDir = lmbff("original");
    await generateKShot({
      dataDir,
      outDir: out,
      k: 16,
      seeds: [13],
      mode: "k-shot-1k-test",
      tasks: [{ name: "sst-5", layout: task.data }],
    });
    const dir = join(out, "k-shot-1k-test", "sst-5", "16-13");
    const src = parseCsv(readFileSync(join(dataDir, "sst-5", "test.csv"), "utf8")).map((r) =>
      r.fields.map(pandasValue),
    );
    expect(src.length).toBe(2210);
    const perm = new MT19937(42).permutation(2210).slice(0, 1000);
    expect(readFileSync(join(dir, "test.csv"), "utf8")).toBe(formatCsv(perm.map((i) => src[i])));
    const sums = lmbffChecksums();
    for (const f of ["train.csv", "dev.csv"]) expect(md5(join(dir, f))).toBe(sums.get(`sst-5/16-13/${f}`));
  });
});
