import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readNpy } from "../../src/util/npy.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(root, "bin/entk.js");
const entk = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000, cwd: root });

const MODEL = "models/tiny-roberta";
const METHODS = "kernel:sgd:lstsq,ft:sgd:lr=1e-3:bs=4:steps=4:evalEvery=2";

interface Rec {
  key: string;
  task: string;
  k: number;
  seed: number;
  method: string;
  hyperparameters: Record<string, unknown>;
  dev: Record<string, number>;
  test: Record<string, number>;
  model: { id: string; weightsHash: string };
  entkVersion: string;
  wallTimeS: number;
}

const readJsonl = (path: string): Rec[] =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("entk run end to end (tiny model, k = 4, bundled spam originals)", () => {
  it("writes one record per method with metrics in [0, 1]; a rerun recomputes nothing", () => {
    const out = mkdtempSync(join(tmpdir(), "entk-e2e-"));
    const args = ["run", "--task", "spam", "--k", "4", "--seed", "13", "--model", MODEL, "--methods", METHODS];
    const rest = ["--data-dir", "datasets/original", "--limit-eval", "12", "--out", out, "--json", "--quiet"];
    const first = entk(...args, ...rest);
    expect(first.stderr).toContain("run: 2 jobs ran, 0 were already done, 0 failed");
    expect(first.status).toBe(0);

    const hash = JSON.parse(entk("model", "info", MODEL, "--json").stdout).hash;
    // results.jsonl is sorted by job key; stdout lists the jobs in --methods order.
    const inFile = readJsonl(join(out, "results.jsonl"));
    expect(inFile.map((r) => r.key)).toEqual(inFile.map((r) => r.key).sort());
    const records = ["kernel:sgd:lstsq", "ft:sgd"].map((m) => inFile.find((r) => r.method === m) as Rec);
    expect(records.every((r) => r !== undefined)).toBe(true);
    // The ft job also writes the post-hoc linearization of its best checkpoint (test/e2e/run-linearized.test.ts).
    expect(inFile.map((r) => r.method).sort()).toEqual(["ft:sgd", "kernel:sgd:lstsq", "posthoc-lin:sgd"]);
    for (const r of records) {
      expect([r.task, r.k, r.seed]).toEqual(["spam", 4, 13]);
      expect(r.model).toMatchObject({ id: MODEL, weightsHash: hash });
      expect(r.wallTimeS).toBeGreaterThan(0);
      for (const m of [r.dev, r.test]) {
        expect(Object.keys(m)).toEqual(["acc"]);
        expect(m.acc).toBeGreaterThanOrEqual(0);
        expect(m.acc).toBeLessThanOrEqual(1);
      }
    }
    expect(records[0].hyperparameters).toMatchObject({ reg: 0, binary: false });
    expect(records[1].hyperparameters).toMatchObject({ lr: 1e-3, batchSize: 4, steps: 4, evalEvery: 2 });
    // stdout carries the same records.
    expect(
      first.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).key),
    ).toEqual([...records.map((r) => r.key), records[1].key]); // the ft job's posthoc-lin record follows it

    // The kernel record's metrics are those of the predictions the solver wrote next to the kernels.
    const kdir = join(out, "jobs", records[0].key, "kernels");
    for (const split of ["dev", "test"] as const) {
      const pred = readNpy(join(kdir, "results", `sgd.lstsq.predictions.${split}.npy`)).data;
      const labels = readNpy(join(kdir, `labels.${split}.npy`)).data;
      expect(pred.length).toBe(split === "dev" ? 8 : 12); // dev = k per class; test capped by --limit-eval
      let ok = 0;
      for (let i = 0; i < pred.length; i++) ok += Number(pred[i] === labels[i]);
      expect(records[0][split].acc).toBeCloseTo(ok / pred.length, 12);
    }
    // The split was generated from the originals with LM-BFF's sampler: 4 examples per class.
    const splitDir = join(out, "cache", "spam--models_tiny-roberta", "splits", "k-shot-1k-test", "spam", "4-13");
    expect(readFileSync(join(splitDir, "train.csv"), "utf8").trim().split("\n").length).toBe(8);

    const recordFiles = readdirSync(join(out, "records")).map((f) => join(out, "records", f));
    const before = recordFiles.map((f) => [readFileSync(f, "utf8"), statSync(f).mtimeMs]);
    const second = entk(...args, ...rest);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain("run: 0 jobs ran, 2 were already done, 0 failed");
    expect(second.stdout).toBe(first.stdout);
    expect(recordFiles.map((f) => [readFileSync(f, "utf8"), statSync(f).mtimeMs])).toEqual(before);
  }, 60_000);

  it("uses an existing split directory as is, and rejects a bad method naming it", () => {
    const out = mkdtempSync(join(tmpdir(), "entk-e2e-"));
    // LM-BFF's layout: data/original/sotu (the bundled originals) beside data/k-shot-1k-test/sotu/4-21, made by
    // `entk data split`.
    const data = join(out, "data");
    cpSync(join(root, "datasets/original/sotu"), join(data, "original", "sotu"), { recursive: true });
    const split = entk(
      "data",
      "split",
      "--data-dir",
      join(data, "original"),
      "--k",
      "4",
      "--seeds",
      "21",
      "--mode",
      "k-shot-1k-test",
      "--tasks",
      "sotu",
      "--out",
      data,
    );
    expect(split.status).toBe(0);
    const r = entk(
      "run",
      "--task",
      "sotu",
      "--k",
      "4",
      "--seed",
      "21",
      "--model",
      MODEL,
      "--methods",
      "kernel:signgd:logistic",
      "--data-dir",
      join(data, "original"),
      "--limit-eval",
      "6",
      "--out",
      out,
      "--quiet",
    );
    expect(r.stderr).toContain("run: 1 jobs ran");
    expect(r.status).toBe(0);
    const [rec] = readJsonl(join(out, "results.jsonl"));
    const meta = JSON.parse(readFileSync(join(out, "jobs", rec.key, "kernels", "meta.json"), "utf8"));
    expect(meta.splits).toMatchObject({ train: 16, dev: 6, test: 6 });
    expect(readdirSync(join(out, "cache", "sotu--models_tiny-roberta"))).not.toContain("splits");

    const bad = entk(
      "run",
      "--task",
      "RTE",
      "--k",
      "16",
      "--seed",
      "21",
      "--model",
      MODEL,
      "--methods",
      "kernel:ntk:lstsq",
      "--out",
      out,
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /entk: method "kernel:ntk:lstsq": formula: expected one of "sgd", "signgd", "asymmetric_signgd"/,
    );
    expect(
      entk("run", "--task", "RTE", "--k", "0", "--seed", "1", "--model", MODEL, "--methods", "kernel:sgd:lstsq").status,
    ).toBe(2);
  }, 60_000);
});
