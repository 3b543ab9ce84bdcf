import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { JobContext } from "../../src/experiments/executor.ts";
import type { Job } from "../../src/experiments/jobs.ts";
import { ensureSplit, jobSplit, splitDirOf } from "../../src/experiments/splits.ts";
import { loadTask } from "../../src/prompts/task.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const DATA = join(root, "datasets/original");
const md5 = (path: string) => createHash("md5").update(readFileSync(path)).digest("hex");
const rows = (path: string) => readFileSync(path, "utf8").trim().split("\n");

describe("ensureSplit", () => {
  it("generates a missing split from the bundled originals: k per label from train, test = the original test", async () => {
    const splitsRoot = mkdtempSync(join(tmpdir(), "entk-splits-"));
    const task = loadTask("spam");
    const dir = await ensureSplit({ task, k: 16, seed: 21, data: { dir: DATA, mode: "k-shot" }, splitsRoot });
    expect(dir).toBe(splitDirOf(splitsRoot, "k-shot", "spam", 16, 21));
    const original = new Set(rows(join(DATA, "spam/train.csv")));
    const train = rows(join(dir, "train.csv"));
    const dev = rows(join(dir, "dev.csv"));
    for (const part of [train, dev]) {
      expect(part.every((r) => original.has(r))).toBe(true);
      for (const label of task.labels) expect(part.filter((r) => r.startsWith(`${label},`))).toHaveLength(16);
    }
    expect(train.filter((r) => dev.includes(r))).toEqual([]);
    expect(md5(join(dir, "test.csv"))).toBe(md5(join(DATA, "spam/test.csv")));
    // A second call reuses it (no rewrite).
    const mtime = statSync(join(dir, "train.csv")).mtimeMs;
    const devMd5 = md5(join(dir, "dev.csv"));
    expect(await ensureSplit({ task, k: 16, seed: 21, data: { dir: DATA, mode: "k-shot" }, splitsRoot })).toBe(dir);
    expect(statSync(join(dir, "train.csv")).mtimeMs).toBe(mtime);
    // An incomplete split (interrupted generation) is regenerated, identically (seeded).
    rmSync(join(dir, "dev.csv"));
    await ensureSplit({ task, k: 16, seed: 21, data: { dir: DATA, mode: "k-shot" }, splitsRoot });
    expect(md5(join(dir, "dev.csv"))).toBe(devMd5);
  });

  const lmbff = process.env.ENTK_LMBFF_DIR;
  it.skipIf(!lmbff)("from LM-BFF's originals (ENTK_LMBFF_DIR), byte-identical to LM-BFF's official split", async () => {
    const dir = lmbff as string;
    const checksums = new Map(
      readFileSync(join(dir, "lm-bff-kshot-checksum.txt"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/).reverse() as [string, string]),
    );
    const splitsRoot = mkdtempSync(join(tmpdir(), "entk-splits-"));
    const data = { dir: join(dir, "original"), mode: "k-shot" as const };
    const split = await ensureSplit({ task: loadTask("mpqa"), k: 16, seed: 21, data, splitsRoot });
    for (const f of ["train.csv", "dev.csv", "test.csv"])
      expect(md5(join(split, f))).toBe(checksums.get(`mpqa/16-21/${f}`));
  });

  it("prefers existing splits under DATA/<mode>/ or its sibling, and names both places when nothing is found", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "entk-splits-"));
    const task = loadTask("sotu");
    // A data folder with the bundled originals and, beside it, a ready split (LM-BFF's data/{original,k-shot-*}).
    const data = { dir: join(tmp, "data", "original"), mode: "k-shot-1k-test" as const };
    cpSync(join(DATA, "sotu"), join(data.dir, "sotu"), { recursive: true });
    const made = await ensureSplit({ task, k: 16, seed: 13, data, splitsRoot: join(tmp, "made") });
    const sibling = join(tmp, "data", "k-shot-1k-test", "sotu", "16-13");
    cpSync(made, sibling, { recursive: true });
    expect(await ensureSplit({ task, k: 16, seed: 13, data, splitsRoot: tmp })).toBe(sibling);
    // Inside the data dir itself.
    const own = join(tmp, "own");
    mkdirSync(join(own, "k-shot-1k-test", "sotu"), { recursive: true });
    cpSync(sibling, join(own, "k-shot-1k-test", "sotu", "16-13"), { recursive: true });
    expect(await ensureSplit({ task, k: 16, seed: 13, data: { ...data, dir: own }, splitsRoot: tmp })).toBe(
      join(own, "k-shot-1k-test", "sotu", "16-13"),
    );
    await expect(ensureSplit({ task, k: 16, seed: 87, data: { ...data, dir: own }, splitsRoot: tmp })).rejects.toThrow(
      `no k-shot-1k-test split for sotu k=16 seed=87: neither ${join(own, "k-shot-1k-test/sotu/16-87")} nor ${join(own, "sotu/train.csv")} (LM-BFF original/ layout) exists`,
    );
  });

  it("jobSplit with limitEval: a seeded dev/test subsample, the same test examples for every seed", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "entk-splits-"));
    const ctx = { cacheDir, signal: new AbortController().signal } as JobContext;
    const job = (seed: number, limitEval?: number) =>
      ({ task: "spam", k: 4, seed, data: { dir: DATA, mode: "k-shot" }, limits: { limitEval } }) as Job;
    const full = await jobSplit(job(13), ctx);
    expect(full.splitDir).toBe(splitDirOf(join(cacheDir, "splits"), "k-shot", "spam", 4, 13));
    const a = await jobSplit(job(13, 6), ctx);
    const b = await jobSplit(job(21, 6), ctx);
    expect(a.task.name).toBe("spam");
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
