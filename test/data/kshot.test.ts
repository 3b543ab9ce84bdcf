import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateKShot, type KShotTask } from "../../src/data/kshot.ts";
import { MT19937 } from "../../src/data/mt19937.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { lmbff, lmbffChecksums, needs } from "../helpers/shared-data.ts";

const out = mkdtempSync(join(tmpdir(), "entk-kshot-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const md5 = (p: string) => createHash("md5").update(readFileSync(p)).digest("hex");

describe("k-shot splits are byte-identical to LM-BFF's (acceptance)", () => {
  it(
    "regenerates every 16-shot split whose originals are in ENTK_LMBFF_DIR and matches LM-BFF's md5s",
    needs("ENTK_LMBFF_DIR"),
    async () => {
      const ORIGINAL = lmbff("original");
      const sums = lmbffChecksums();
      // Every task in the checksum list whose train file is available (SST-2 = LM-BFF's sentence-level files).
      const checksumTasks = [...new Set([...sums.keys()].map((p) => p.split("/")[0]))];
      const tasks: KShotTask[] = [];
      for (const name of checksumTasks) {
        let layout: KShotTask["layout"];
        try {
          layout = loadTask(name).data;
        } catch {
          continue; // STS-B: no bundled task definition
        }
        if (existsSync(join(ORIGINAL, layout.dir, layout.original.train))) tasks.push({ name, layout });
      }
      expect(tasks.map((t) => t.name).sort()).toEqual([
        "MRPC",
        "RTE",
        "SST-2",
        "cr",
        "mpqa",
        "mr",
        "sst-5",
        "subj",
        "trec",
      ]);
      const files = await generateKShot({
        dataDir: ORIGINAL,
        outDir: out,
        k: 16,
        seeds: [13, 21, 42, 87, 100],
        mode: "k-shot",
        tasks,
      });
      expect(files.length).toBe(tasks.length * 5 * 3);
      for (const f of files) {
        const rel = f.slice(join(out, "k-shot").length + 1);
        expect(sums.has(rel), rel).toBe(true);
        expect(md5(f), rel).toBe(sums.get(rel));
      }
    },
  );
});

describe("k-shot modes on a small synthetic task", () => {
  const data = join(out, "orig");
  const lines = ["sentence\tlabel\n"];
  for (let i = 0; i < 1500; i++) lines.push(`s${i} text\t${["a", "b", "c"][i % 3]}\n`);
  mkdirSync(join(data, "T"), { recursive: true });
  writeFileSync(join(data, "T", "train.tsv"), lines.slice(0, 301).join(""));
  writeFileSync(join(data, "T", "dev.tsv"), lines.join("").replace(/\n$/, "\r\n"));
  const layout = {
    dir: "T",
    format: "tsv" as const,
    header: true,
    textColumns: [0],
    labelColumn: 1,
    samplerLabelColumn: -1,
    files: { train: "train.tsv", dev: "dev.tsv", test: "test.tsv" },
    original: { train: "train.tsv", eval: ["dev.tsv"] },
  };

  it("k-shot-10x takes dev rows [k, 11k) per label, grouped by label in first-appearance order", async () => {
    await generateKShot({
      dataDir: data,
      outDir: out,
      k: 4,
      seeds: [13],
      mode: "k-shot-10x",
      tasks: [{ name: "T", layout }],
    });
    const dir = join(out, "k-shot-10x", "T", "4-13");
    const train = readFileSync(join(dir, "train.tsv"), "utf8").trim().split("\n");
    const dev = readFileSync(join(dir, "dev.tsv"), "utf8").trim().split("\n");
    expect(train[0]).toBe("sentence\tlabel");
    expect(train.length).toBe(1 + 3 * 4);
    expect(dev.length).toBe(1 + 3 * 40);
    // Reproduce the grouping independently: shuffle with seed 13, group by label.
    const body = lines.slice(1, 301);
    const perm = new MT19937(13).permutation(body.length).map((i) => body[i].trim());
    const order = [...new Set(perm.map((l) => l.split("\t")[1]))];
    const expected = order.flatMap((lab) => perm.filter((l) => l.endsWith(`\t${lab}`)).slice(0, 4));
    expect(train.slice(1)).toEqual(expected);
    // Universal newlines: the CRLF at the end of dev.tsv is written back as LF.
    expect(readFileSync(join(dir, "test.tsv"), "utf8").endsWith("\r\n")).toBe(false);
  });

  it("k-shot-1k-test caps the test set at 1,000 rows with the seed-42 draw, same for every seed", async () => {
    await generateKShot({
      dataDir: data,
      outDir: out,
      k: 2,
      seeds: [13, 21],
      mode: "k-shot-1k-test",
      tasks: [{ name: "T", layout }],
    });
    const a = readFileSync(join(out, "k-shot-1k-test", "T", "2-13", "test.tsv"), "utf8").split("\n");
    const b = readFileSync(join(out, "k-shot-1k-test", "T", "2-21", "test.tsv"), "utf8");
    expect(a.join("\n")).toBe(b);
    expect(a[0]).toBe("sentence\tlabel");
    const perm = new MT19937(42).permutation(1500);
    expect(a.slice(1, 4)).toEqual(perm.slice(0, 3).map((i) => lines[i + 1].trim()));
    expect(a.length - 2).toBe(1000);
    // Train/dev selection does not depend on the mode.
    expect(readFileSync(join(out, "k-shot-1k-test", "T", "2-13", "train.tsv"), "utf8")).toBe(
      readFileSync(join(out, "k-shot-10x", "T", "4-13", "train.tsv"), "utf8")
        .split("\n")
        .filter((_, i) => i === 0 || [1, 2, 5, 6, 9, 10].includes(i))
        .join("\n") + "\n",
    );
  });

  it("names a missing original file", async () => {
    await expect(
      generateKShot({
        dataDir: join(out, "nope"),
        outDir: out,
        k: 2,
        seeds: [1],
        mode: "k-shot",
        tasks: [{ name: "T", layout }],
      }),
    ).rejects.toThrow(/nope\/T\/train\.tsv: file not found/);
  });
});
