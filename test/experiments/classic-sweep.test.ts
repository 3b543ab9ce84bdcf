/**
 * Classic kernels (linear, poly, rbf on the frozen <mask> feature, docs/analyses.md §5) as sweep methods: the config
 * accepts them, the kernel executor computes them, and the report shows their rows next to the eNTK's. The kernel a
 * sweep job wrote is checked against the feature computed independently with tfjs (test/model/reference-tf.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { parseMethodSpec, validateSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";
import { parseKernelMethod } from "../../src/experiments/kernel-executor.ts";
import { runSweep } from "../../src/experiments/runner.ts";
import { loadModel } from "../../src/model/load.ts";
import { readNpy } from "../../src/util/npy.ts";
import { tfMaskFeature, tfParams } from "../model/reference-tf.ts";

const root = mkdtempSync(join(tmpdir(), "entk-classic-sweep-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (methods: unknown[]) =>
  validateSweepConfig({
    model: "models/tiny-roberta",
    data: { dir: "datasets/original", mode: "k-shot" },
    tasks: ["spam"],
    k: [5],
    seeds: [13],
    limits: { limitEval: 12 },
    out: join(root, "sweep"),
    methods,
  });

describe("classic kernels as sweep methods", () => {
  it("the config and method specs accept linear, poly and rbf; eNTK-only options are refused for them", () => {
    const jobs = expandJobs(config([{ kind: "kernel", formula: ["sgd", "linear", "poly", "rbf"], solver: "lstsq" }]));
    expect(jobs.map((j) => j.method)).toEqual([
      "kernel:sgd:lstsq",
      "kernel:linear:lstsq",
      "kernel:poly:lstsq",
      "kernel:rbf:lstsq",
    ]);
    expect(parseMethodSpec("kernel:rbf:logistic:reg=0.01")).toMatchObject({ formulas: ["rbf"], solvers: ["logistic"] });
    expect(parseKernelMethod("kernel:poly:svc")).toEqual({ formula: "poly", solver: "svc" });
    expect(() => parseKernelMethod("kernel:cosine:lstsq")).toThrow(/expected kernel:<sgd\|.*\|rbf>:<solver>/);
    expect(() => config([{ kind: "kernel", formula: ["sgd", "linear"], solver: "lstsq", excludeHead: true }])).toThrow(
      /excludeHead: only applies to eNTK formulas, not to the classic kernel "linear"/,
    );
    expect(() => parseMethodSpec("kernel:rbf:lstsq:loraR=4")).toThrow(/loraR: only applies to eNTK formulas/);
  });

  it("entk sweep computes classic-kernel rows beside the eNTK's; the kernel is φφᵀ of the tfjs feature", async () => {
    const c = config([
      { kind: "kernel", formula: ["sgd", "linear", "rbf"], solver: "lstsq", reg: [0, 0.01] },
      { kind: "probe" },
    ]);
    const s = await runSweep(c, { quiet: true, log: () => {} });
    expect(s.failed).toEqual([]);
    const records = readFileSync(join(c.out, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const methods = records.map((r) => r.method).sort();
    expect(methods).toEqual([
      "kernel:linear:lstsq",
      "kernel:linear:lstsq",
      "kernel:rbf:lstsq",
      "kernel:rbf:lstsq",
      "kernel:sgd:lstsq",
      "kernel:sgd:lstsq",
      "probe",
    ]);
    for (const r of records) expect(r.test.acc).toBeGreaterThanOrEqual(0);

    // The linear job's train kernel against the feature computed independently.
    const job = expandJobs(c).find((j) => j.method === "kernel:linear:lstsq")!;
    const dir = join(c.out, "jobs", job.key, "kernels");
    const w = await loadModel("models/tiny-roberta");
    const p = tfParams(w);
    const phi = readFileSync(join(dir, "inputs.train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((x) => Array.from(tfMaskFeature(w, p, { inputIds: x.input_ids, maskPos: x.mask_pos }).dataSync()));
    const n = phi.length;
    expect(n).toBe(10); // k = 5 per label (the probe's 5-fold CV needs 5 per class)
    const k = readNpy(join(dir, "kernel.linear.train.npy"));
    expect(k.shape).toEqual([n, 2, n, 2]);
    const at = (i: number, a: number, j: number, b: number) => (k.data as Float64Array)[((i * 2 + a) * n + j) * 2 + b];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const dot = phi[i].reduce((acc, v, h) => acc + v * phi[j][h], 0);
        expect(at(i, 0, j, 0)).toBeCloseTo(dot, 3);
        expect(at(i, 1, j, 1)).toBeCloseTo(dot, 3);
        expect(at(i, 0, j, 1)).toBe(0);
      }

    // The report names the classic rows and puts them after the eNTK's.
    const md = join(root, "report.md");
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const code = await main(["node", "entk", "report", c.out, "--out", md]);
    write.mockRestore();
    expect(code).toBe(0);
    const text = readFileSync(md, "utf8");
    const row = (label: string) => text.split("\n").findIndex((l) => l.startsWith(`| 5 | ${label} |`));
    expect(row("K^(SGD) lstsq")).toBeGreaterThan(0);
    expect(row("linear kernel lstsq")).toBeGreaterThan(row("K^(SGD) lstsq"));
    expect(row("Gaussian kernel lstsq")).toBeGreaterThan(row("linear kernel lstsq"));
  }, 300_000);
});
