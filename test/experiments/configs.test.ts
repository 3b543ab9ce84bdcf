import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(root, "bin/entk.js");
const entk = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });

describe("ready configs in scripts/", () => {
  it.each([16, 64])("table2-%ishot: the paper's 14 tasks × 5 seeds on roberta-base, kernels and FT", (k) => {
    const c = loadSweepConfig(join(root, `scripts/table2-${k}shot.json`));
    expect(c.model.id).toBe("roberta-base");
    expect(c.k).toEqual([k]);
    expect(c.seeds).toEqual([13, 21, 42, 87, 100]);
    expect(c.tasks.length).toBe(14);
    expect(c.data.mode).toBe("k-shot-1k-test");
    const methods = new Set(expandJobs(c).map((j) => j.method));
    for (const m of [
      "kernel:sgd:lstsq",
      "kernel:signgd:logistic",
      "kernel:asymmetric_signgd:asym",
      "ft:sgd",
      "ft:adam",
    ])
      expect(methods.has(m)).toBe(true);
  });

  it("quick: the bundled entk-mini, the 2 bundled tasks, 2 seeds, kernels, solvers and a short fine-tune, offline", () => {
    const c = loadSweepConfig(join(root, "scripts/quick.json"));
    expect(c.tasks).toEqual(["spam", "sotu"]);
    expect(c.seeds.length).toBeLessThanOrEqual(2);
    const jobs = expandJobs(c);
    expect(jobs.some((j) => j.method.startsWith("kernel:"))).toBe(true);
    expect(jobs.some((j) => j.method.startsWith("ft:") && Number(j.hyperparameters.steps) <= 100)).toBe(true);
    // Everything it needs is in the repository: the model and the data (originals or ready splits).
    expect(existsSync(join(root, c.model.id, "model.safetensors"))).toBe(true);
    for (const t of c.tasks)
      expect(existsSync(join(root, c.data.dir, t)) || existsSync(join(root, dirname(c.data.dir), c.data.mode, t))).toBe(
        true,
      );
  });

  it("analyses-kernels (scripts/analyses-example.sh): entk-mini, the bundled tasks, classic kernels beside the eNTK", () => {
    const c = loadSweepConfig(join(root, "scripts/analyses-kernels.json"));
    expect(c.model.id).toBe("models/entk-mini");
    expect(c.tasks).toEqual(["spam", "sotu"]);
    expect(existsSync(join(root, c.model.id, "model.safetensors"))).toBe(true);
    const methods = new Set(expandJobs(c).map((j) => j.method));
    for (const m of [
      "zero-shot",
      "probe",
      "kernel:sgd:lstsq",
      "kernel:linear:lstsq",
      "kernel:poly:lstsq",
      "kernel:rbf:lstsq",
    ])
      expect(methods.has(m)).toBe(true);
  });
});

describe("entk sweep CLI", () => {
  it("a bad config exits 1 naming file, line, key and what was expected", () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-cfg-"));
    const f = join(dir, "bad.yaml");
    writeFileSync(
      f,
      "model: m\ndata: d\ntasks: [cr]\nk: [16]\nseeds: [13]\nout: o\nmethods:\n  - kind: kernel\n    formula: ntk\n    solver: lstsq\n",
    );
    const r = entk("sweep", f);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `entk: ${f}:9: methods[0].formula: expected one of "sgd", "signgd", "asymmetric_signgd", "linear", "poly", "rbf", got "ntk"`,
    );
    expect(entk("sweep", join(dir, "missing.yaml")).stderr).toMatch(/cannot read sweep config .*missing\.yaml: ENOENT/);
  });

  it("bad flags exit 2; --help explains the default concurrency", () => {
    const bad = entk("sweep", "scripts/quick.json", "--shard", "3/2");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--shard.*1 <= i <= n/);
    expect(entk("sweep", "scripts/quick.json", "--concurrency", "0").status).toBe(2);
    const help = entk("sweep", "--help");
    expect(help.stdout.replace(/\s+/g, " ")).toMatch(
      /kernel and fine-tuning jobs are CPU-bound and each already uses every core.*\(default: 1\)/,
    );
  });

  it("--dry-run lists this shard's jobs without running them; failed jobs make the sweep exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-dry-"));
    const r = entk("sweep", join(root, "scripts/quick.json"), "--dry-run", "--out", dir, "--shard", "1/2");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    // 2 tasks × 2 seeds = 4 units dealt round-robin: shard 1 gets spam/13 (7 jobs, A-SignGD being binary-only)
    // and sotu/13 (6 jobs).
    expect(lines[0]).toMatch(/^# config [0-9a-f]{16}, 13 jobs/);
    expect(lines.slice(1).every((l) => / todo (spam|sotu) k=16 seed=13 /.test(l))).toBe(true);
    // The same config with data that does not exist: every job fails, the sweep exits 1.
    const cfg = JSON.parse(readFileSync(join(root, "scripts/quick.json"), "utf8"));
    cfg.data.dir = join(dir, "no-data");
    const f = join(dir, "nodata.json");
    writeFileSync(f, JSON.stringify(cfg));
    const run = entk("sweep", f, "--out", dir, "--quiet");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no k-shot-1k-test split for spam k=16 seed=13/);
    expect(run.stderr).toMatch(/entk: 26 job\(s\) failed; details in .*failed/);
  });
});
