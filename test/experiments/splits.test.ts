import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JobContext } from "../../src/experiments/executor.ts";
import type { Job } from "../../src/experiments/jobs.ts";
import { ensureSplit, jobSplit, splitDirOf } from "../../src/experiments/splits.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { lmbff, lmbffChecksums, needs } from "../helpers/shared-data.ts";
import { writeCsvOriginal, writePairSplit } from "../helpers/synthetic-data.ts";

const md5 = (path: string) => createHash("md5").update(readFileSync(path)).digest("hex");
/** A made-up LM-BFF data folder: original/mpqa (csv) and, beside it, an RTE split in k-shot-1k-test/. */
const fixture = mkdtempSync(join(tmpdir(), "entk-splits-data-"));
const DATA = join(fixture, "original");
writeCsvOriginal(DATA, "mpqa", { labels: ["0", "1"], train: 200, test: 120 });
const sibling = writePairSplit(join(fixture, "k-shot-1k-test", "RTE", "16-13"), {
  labels: ["entailment", "not_entailment"],
});

describe("ensureSplit", () => {
  it(
    "generates a missing split from LM-BFF's originals, byte-identical to its official one",
    needs("ENTK_LMBFF_DIR"),
    async () => {
      const splitsRoot = mkdtempSync(join(tmpdir(), "entk-splits-"));
      // LM-BFF's mpqa originals alone (a k-shot/ folder beside them would be used instead of generating).
      const DATA = join(splitsRoot, "lmbff", "original");
      cpSync(lmbff("original", "mpqa"), join(DATA, "mpqa"), { recursive: true });
      const checksums = lmbffChecksums();
      const task = loadTask("mpqa");
      const dir = await ensureSplit({ task, k: 16, seed: 21, data: { dir: DATA, mode: "k-shot" }, splitsRoot });
      expect(dir).toBe(splitDirOf(splitsRoot, "k-shot", "mpqa", 16, 21));
      for (const f of ["train.csv", "dev.csv", "test.csv"])
        expect(md5(join(dir, f))).toBe(checksums.get(`mpqa/16-21/${f}`));
      // A second call reuses it (no rewrite).
      const mtime = statSync(join(dir, "train.csv")).mtimeMs;
      expect(await ensureSplit({ task, k: 16, seed: 21, data: { dir: DATA, mode: "k-shot" }, splitsRoot })).toBe(dir);
      expect(statSync(join(dir, "train.csv")).mtimeMs).toBe(mtime);
      // An incomplete split (interrupted generation) is regenerated.
      rmSync(join(dir, "dev.csv"));
      await ensureSplit({ task, k: 16, seed: 21, data: { dir: DATA, mode: "k-shot" }, splitsRoot });
      expect(md5(join(dir, "dev.csv"))).toBe(checksums.get("mpqa/16-21/dev.csv"));
    },
  );

  it("prefers existing splits under DATA/<mode>/ or its sibling, and names both places when nothing is found", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "entk-splits-"));
    const task = loadTask("RTE");
    const data = { dir: DATA, mode: "k-shot-1k-test" as const };
    expect(await ensureSplit({ task, k: 16, seed: 13, data, splitsRoot: tmp })).toBe(sibling);
    // Inside the data dir itself.
    const own = join(tmp, "own");
    mkdirSync(join(own, "k-shot-1k-test", "RTE"), { recursive: true });
    cpSync(sibling, join(own, "k-shot-1k-test", "RTE", "16-13"), { recursive: true });
    expect(await ensureSplit({ task, k: 16, seed: 13, data: { ...data, dir: own }, splitsRoot: tmp })).toBe(
      join(own, "k-shot-1k-test", "RTE", "16-13"),
    );
    await expect(ensureSplit({ task, k: 16, seed: 87, data, splitsRoot: tmp })).rejects.toThrow(
      `no k-shot-1k-test split for RTE k=16 seed=87: neither ${join(DATA, "k-shot-1k-test/RTE/16-87")} nor ${join(DATA, "RTE/train.tsv")} (LM-BFF original/ layout) exists`,
    );
  });

  it("jobSplit with limitEval: a seeded dev/test subsample, the same test examples for every seed", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "entk-splits-"));
    const ctx = { cacheDir, signal: new AbortController().signal } as JobContext;
    const job = (seed: number, limitEval?: number) =>
      ({ task: "mpqa", k: 4, seed, data: { dir: DATA, mode: "k-shot" }, limits: { limitEval } }) as Job;
    const full = await jobSplit(job(13), ctx);
    expect(full.splitDir).toBe(splitDirOf(join(cacheDir, "splits"), "k-shot", "mpqa", 4, 13));
    const a = await jobSplit(job(13, 6), ctx);
    const b = await jobSplit(job(21, 6), ctx);
    expect(a.task.name).toBe("mpqa");
    expect(a.splitDir.startsWith(join(cacheDir, "eval-subsamples", "6"))).toBe(true);
    expect(b.splitDir).not.toBe(a.splitDir);
    const lines = (dir: string, f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n");
    expect(lines(a.splitDir, "test.csv")).toHaveLength(6);
    expect(lines(b.splitDir, "test.csv")).toEqual(lines(a.splitDir, "test.csv"));
    expect(lines(a.splitDir, "dev.csv")).toHaveLength(6);
    expect(lines(b.splitDir, "dev.csv")).not.toEqual(lines(a.splitDir, "dev.csv"));
    expect(lines(a.splitDir, "train.csv")).toEqual(lines(full.splitDir, "train.csv"));
    // Reused, not rewritten.
    const mtime = statSync(join(a.splitDir, "test.csv")).mtimeMs;
    expect((await jobSplit(job(13, 6), ctx)).splitDir).toBe(a.splitDir);
    expect(statSync(join(a.splitDir, "test.csv")).mtimeMs).toBe(mtime);
  });
});
