import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSolverInputs } from "../../src/solvers/kernel-dir.ts";
import { mat } from "../../src/solvers/matrix.ts";
import { solveKernelDir, solveKernels } from "../../src/solvers/solve.ts";
import { encodeNpy, readNpy } from "../../src/util/npy.ts";
import { expectOptionRejection } from "../helpers/option-error.ts";
import { gaussSolve, mul, tr } from "./helpers.ts";
import { writeSyntheticKernelDir } from "./kernel-dir-fixture.ts";

const dirs: string[] = [];
const make = (o: Parameters<typeof writeSyntheticKernelDir>[0]) => {
  const s = writeSyntheticKernelDir(o);
  dirs.push(s.dir);
  return s;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("solveKernelDir", () => {
  it("lstsq on a binary sgd directory: predictions equal an independent solve, files written", async () => {
    const s = make({ binary: true, numLabels: 2, n: { train: 10, dev: 6, test: 7 }, d: 16 });
    const { result, predictions } = await solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq" });
    const G = (split: string) => mat(s.n[split], s.d, s.feats[split]);
    const alpha = gaussSolve(
      mul(G("train"), tr(G("train"))),
      Float64Array.from(s.labels.train, (l) => 2 * l - 1),
    );
    for (const split of ["dev", "test"] as const) {
      const out = mul(mul(G(split), tr(G("train"))), mat(10, 1, alpha)).data;
      const expected = Array.from(out, (v) => (v > 0 ? 1 : 0));
      expect([...predictions[split]!]).toEqual(expected);
      const onDisk = readNpy(join(s.dir, "results", `sgd.lstsq.predictions.${split}.npy`));
      expect(onDisk.dtype).toBe("int32");
      expect([...onDisk.data]).toEqual(expected);
      const acc = expected.filter((p, i) => p === s.labels[split][i]).length / expected.length;
      expect(result[split]!.acc).toBeCloseTo(acc, 15);
      const mse =
        Array.from(out, (v, i) => (v - (2 * s.labels[split][i] - 1)) ** 2).reduce((a, b) => a + b) / out.length;
      expect(result[split]!.loss).toBeCloseTo(mse, 10);
    }
    expect(result.train!.acc).toBe(1); // full-rank kernel interpolates ±1 targets
    const json = JSON.parse(readFileSync(join(s.dir, "results", "sgd.lstsq.json"), "utf8"));
    expect(json.dev.acc).toBe(result.dev!.acc);
    expect(json.hyperparameters).toEqual({ reg: 0, adjust_for_init: false, f0_scaling: 1 });
    expect(json.timing.total_s).toBeGreaterThan(0);
    expect(json.selected_on).toBeNull();
  });

  it("selects the regularization on dev (best dev score, ties → first) and reports that entry's metrics", async () => {
    const s = make({ binary: false, numLabels: 3, n: { train: 9, dev: 9, test: 6 }, d: 8, seed: 11 });
    const grid = [0, 1e-6, 1e-2, 1];
    const { result } = await solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq", regGrid: grid, selectOn: "dev" });
    expect(result.grid.map((g) => g.reg)).toEqual(grid);
    const scores = result.grid.map((g) => g.metrics.dev!.score);
    const best = scores.indexOf(Math.max(...scores));
    expect(result.hyperparameters.reg).toBe(grid[best]);
    expect(result.selected_on).toBe("dev");
    expect(result.test).toEqual(result.grid[best].metrics.test);
    // rank-deficient (P = 27 > d = 8): the unregularized solve warns about the pseudo-inverse
    const plain = solveKernels(readSolverInputs(s.dir, "sgd"), { formula: "sgd", solver: "lstsq" });
    expect(plain.result.warnings.join()).toMatch(/rank-deficient.*pseudo-inverse/);
    expect(plain.result.solver_info.rank).toBe(8);
  });

  it("uses F1 for MRPC, and every solver runs on a binary directory", async () => {
    const s = make({ binary: true, numLabels: 2, n: { train: 12, dev: 8, test: 8 }, task: "MRPC", seed: 5 });
    for (const solver of ["lstsq", "logistic", "svc", "svr", "asym"] as const) {
      const { result } = await solveKernelDir(s.dir, { formula: "sgd", solver });
      expect(result.metric).toBe("f1");
      expect(result.dev!.f1).toBeGreaterThanOrEqual(0);
      expect(result.dev!.score).toBe(result.dev!.f1);
    }
  });

  it("asym on asymmetric_signgd reads the flipped kernels and honours --lambda; lstsq accepts f0", async () => {
    const s = make({ binary: true, numLabels: 2, n: { train: 8, dev: 5 }, formulas: ["asymmetric_signgd"], seed: 9 });
    const a = await solveKernelDir(s.dir, {
      formula: "asymmetric_signgd",
      solver: "asym",
      lambdaGrid: [0.25],
      gammaGrid: [3],
    });
    expect(a.result.hyperparameters).toMatchObject({ gamma: 3, lambda: 0.25 });
    expect(a.result.solver_info.lambda).toBe(0.25);
    // A γ × λ grid selected on dev: the chosen point has the best dev score, first on ties.
    const g = await solveKernelDir(s.dir, {
      formula: "asymmetric_signgd",
      solver: "asym",
      gammaGrid: [0.1, 10],
      lambdaGrid: [0, 0.5, 1],
      selectOn: "dev",
    });
    expect(g.result.grid.map((e) => [e.gamma, e.lambda])).toEqual([
      [0.1, 0],
      [0.1, 0.5],
      [0.1, 1],
      [10, 0],
      [10, 0.5],
      [10, 1],
    ]);
    const scores = g.result.grid.map((e) => e.metrics.dev!.score);
    const bi = scores.indexOf(Math.max(...scores));
    expect(g.result.hyperparameters).toMatchObject({
      gamma: g.result.grid[bi].gamma,
      lambda: g.result.grid[bi].lambda,
    });
    await expect(
      solveKernelDir(s.dir, { formula: "asymmetric_signgd", solver: "lstsq", lambdaGrid: [0.5] }),
    ).rejects.toThrow(/apply to the asym solver only/);
    const kd = readSolverInputs(s.dir, "asymmetric_signgd", { needFlipped: true });
    expect(kd.splits.train!.Kflipped!.data[1]).toBeCloseTo(kd.splits.train!.K.data[kd.splits.train!.K.cols], 12);
    const adj = await solveKernelDir(s.dir, { formula: "asymmetric_signgd", solver: "lstsq", adjustForInit: true });
    expect(adj.result.hyperparameters.adjust_for_init).toBe(true);
    expect(adj.result.warnings.join()).toMatch(/not symmetric/);
    rmSync(join(s.dir, "kernel.asymmetric_signgd_flipped.dev.npy"));
    await expect(solveKernelDir(s.dir, { formula: "asymmetric_signgd", solver: "asym" })).rejects.toThrow(
      /kernel\.asymmetric_signgd_flipped\.dev\.npy: missing/,
    );
  });
});

describe("initial logits", () => {
  it("binary mode turns [n, 2] logits into f1 − f0; --f0-scaling divides them, s ≤ 0 ignores them", async () => {
    const s = make({ binary: true, numLabels: 2, n: { train: 6, dev: 4 }, d: 12, seed: 3 });
    const two = Float32Array.from([0.5, 2, -1, 1, 0, 0, 3, -2]);
    writeFileSync(join(s.dir, "logits.dev.npy"), encodeNpy(two, [4, 2]));
    const kd = readSolverInputs(s.dir, "sgd", { needLogits: true });
    expect([...kd.splits.dev!.f0!]).toEqual([1.5, 2, 0, -5]);
    const base = await solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq" });
    const ignored = await solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq", adjustForInit: true, f0Scaling: 0 });
    expect(ignored.result.warnings.join()).toMatch(/f0 is ignored/);
    expect(ignored.result.dev!.loss).toBe(base.result.dev!.loss);
    // Full-rank K: α = K⁻¹(y − f0/s), dev output = Kₑᵀα + f0/s; check the MSE against a direct computation.
    const sc = 4;
    const adj = await solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq", adjustForInit: true, f0Scaling: sc });
    const G = (split: string) => mat(s.n[split], s.d, s.feats[split]);
    const y = Float64Array.from(s.labels.train, (l) => 2 * l - 1);
    const f0t = Float64Array.from(s.logits.train, (v) => v / sc);
    const alpha = gaussSolve(
      mul(G("train"), tr(G("train"))),
      y.map((v, i) => v - f0t[i]),
    );
    const out = mul(mul(G("dev"), tr(G("train"))), mat(6, 1, alpha)).data.map((v, i) => v + kd.splits.dev!.f0![i] / sc);
    const mse = Array.from(out, (v, i) => (v - (2 * s.labels.dev[i] - 1)) ** 2).reduce((a, b) => a + b) / 4;
    expect(adj.result.dev!.loss).toBeCloseTo(mse, 9);
  });
});

describe("bad input", () => {
  it("names the file and shapes on mismatches, NaN/Inf and missing files", async () => {
    const s = make({ binary: false, numLabels: 2, n: { train: 4, dev: 3 }, d: 6 });
    const solve = () => solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq" });
    writeFileSync(join(s.dir, "labels.dev.npy"), encodeNpy(Int32Array.from([0, 1]), [2]));
    await expect(solve()).rejects.toThrow(
      /labels\.dev\.npy: shape \[2\], expected \[3\] to match .*kernel\.sgd\.dev\.npy/,
    );
    writeFileSync(join(s.dir, "labels.dev.npy"), encodeNpy(Int32Array.from([0, 1, 5]), [3]));
    await expect(solve()).rejects.toThrow(/labels\.dev\.npy: entry 2 is 5/);
    writeFileSync(join(s.dir, "labels.dev.npy"), encodeNpy(Int32Array.from([0, 1, 1]), [3]));
    writeFileSync(join(s.dir, "kernel.sgd.dev.npy"), encodeNpy(new Float64Array(5 * 2 * 3 * 2), [5, 2, 3, 2]));
    await expect(solve()).rejects.toThrow(
      /kernel\.sgd\.dev\.npy: shape \[5, 2, 3, 2\] has 5 train rows but .*train\.npy has 4/,
    );
    writeFileSync(join(s.dir, "kernel.sgd.dev.npy"), encodeNpy(new Float64Array(4 * 3 * 3 * 3), [4, 3, 3, 3]));
    await expect(solve()).rejects.toThrow(
      /kernel\.sgd\.dev\.npy: shape \[4, 3, 3, 3\], expected \[n_train, 2, n_split, 2\]/,
    );
    const bad = new Float64Array(4 * 2 * 3 * 2);
    bad[7] = Number.NaN;
    writeFileSync(join(s.dir, "kernel.sgd.dev.npy"), encodeNpy(bad, [4, 2, 3, 2]));
    await expect(solve()).rejects.toThrow(/kernel\.sgd\.dev\.npy: entry 7 is NaN/);
    bad[7] = Number.POSITIVE_INFINITY;
    writeFileSync(join(s.dir, "kernel.sgd.dev.npy"), encodeNpy(bad, [4, 2, 3, 2]));
    await expect(solve()).rejects.toThrow(/entry 7 is Infinity/);
    bad[7] = 0;
    writeFileSync(join(s.dir, "kernel.sgd.dev.npy"), encodeNpy(bad, [4, 2, 3, 2]));
    writeFileSync(join(s.dir, "logits.dev.npy"), encodeNpy(new Float32Array(3), [3]));
    await expect(solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq", adjustForInit: true })).rejects.toThrow(
      /logits\.dev\.npy: shape \[3\], expected \[3, 2\]/,
    );
    const meta = JSON.parse(readFileSync(join(s.dir, "meta.json"), "utf8"));
    writeFileSync(join(s.dir, "meta.json"), JSON.stringify({ ...meta, C: 1 }));
    await expect(solve()).rejects.toThrow(/meta\.json: "C" is 1 but 2 label words mean C = 2/);
    writeFileSync(join(s.dir, "meta.json"), JSON.stringify(meta));
    await expect(solveKernelDir(s.dir, { formula: "signgd", solver: "lstsq" })).rejects.toThrow(
      /formula "signgd" was not computed/,
    );
    await expectOptionRejection(
      solveKernelDir(s.dir, { formula: "sgd", solver: "svc", adjustForInit: true }),
      "adjustForInit",
      /svc solver does not support adjustForInit/,
    );
    await expectOptionRejection(
      solveKernelDir(s.dir, { formula: "sgd", solver: "lstsq", regGrid: [0, 1] }),
      "selectOn",
      /several regGrid, gammaGrid or lambdaGrid values\) needs selectOn dev/,
    );
    rmSync(join(s.dir, "labels.train.npy"));
    await expect(solve()).rejects.toThrow(/labels\.train\.npy: missing/);
    rmSync(join(s.dir, "meta.json"));
    await expect(solve()).rejects.toThrow(/meta\.json: missing/);
    await expect(solveKernelDir(join(s.dir, "nope"), { formula: "sgd", solver: "lstsq" })).rejects.toThrow(
      /nope\/meta\.json: missing/,
    );
  });
});
