/**
 * Eigenfunction localization: local energies against NumPy's dense eigendecomposition (python3 at test time) on a
 * small kernel; shares sum to 1; the Nyström extension reproduces the training rows; and end to end on a tiny model,
 * the joint kernel's trace equals the sum of the two tasks' own-output diagonals that `entk kernel` computes per task.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localEnergies } from "../../src/analyses/localization.ts";
import { runLocalization } from "../../src/analyses/localization-job.ts";
import { main } from "../../src/cli/main.ts";
import { initModel } from "../../src/model/init/init.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { readNpy } from "../../src/util/npy.ts";

/** A random PSD matrix B Bᵀ (P×P) with distinct eigenvalues, from a fixed LCG. */
function randomPsd(P: number, seed: number): Float64Array {
  let s = seed;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const B = Float64Array.from({ length: P * P }, u);
  const K = new Float64Array(P * P);
  for (let i = 0; i < P; i++)
    for (let j = 0; j < P; j++) {
      let v = 0;
      for (let k = 0; k < P; k++) v += B[i * P + k] * B[j * P + k];
      K[i * P + j] = v;
    }
  return K;
}

describe("localEnergies", () => {
  const P = 14;
  const K = randomPsd(P, 7);
  const task = Uint8Array.from({ length: P }, (_, i) => (i < 6 ? 0 : 1));

  it("equals NumPy's eigendecomposition; shares sum to 1", () => {
    const r = localEnergies(K, task, 5);
    const py = `
import json, sys, numpy as np
d = json.load(sys.stdin); P = d["P"]; K = np.array(d["K"]).reshape(P, P); t = np.array(d["task"])
w, V = np.linalg.eigh(K); o = np.argsort(-w)[:5]
out = []
for k in o:
    phi2 = P * V[:, k] ** 2
    e = [float(phi2[t == 0].mean()), float(phi2[t == 1].mean())]
    s = [float(phi2[t == 0].sum() / phi2.sum()), float(phi2[t == 1].sum() / phi2.sum())]
    out.append({"w": float(w[k]), "e": e, "s": s})
print(json.dumps(out))`;
    const ref = JSON.parse(
      execFileSync("python3", ["-c", py], {
        input: JSON.stringify({ P, K: Array.from(K), task: Array.from(task) }),
      }).toString(),
    ) as { w: number; e: number[]; s: number[] }[];
    expect(r.top).toHaveLength(5);
    r.top.forEach((row, i) => {
      expect(row.eigenvalue).toBeCloseTo(ref[i].w, 9);
      row.train.energy.forEach((e, t) => {
        expect(e).toBeCloseTo(ref[i].e[t], 9);
      });
      row.train.share.forEach((s, t) => {
        expect(s).toBeCloseTo(ref[i].s[t], 9);
      });
      expect(row.train.share[0] + row.train.share[1]).toBeCloseTo(1, 12);
    });
  });

  it("the Nyström extension of the training rows is the eigenvector itself", () => {
    const r = localEnergies(K, task, 4, { K, task });
    for (const row of r.top) {
      expect(row.heldout!.energy[0]).toBeCloseTo(row.train.energy[0], 8);
      expect(row.heldout!.energy[1]).toBeCloseTo(row.train.energy[1], 8);
    }
  });

  it("a block-diagonal kernel has every eigenfunction localized on one task", () => {
    const B = new Float64Array(K);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) if (task[i] !== task[j]) B[i * P + j] = 0;
    const r = localEnergies(B, task, P);
    expect(r.localized.train[0] + r.localized.train[1]).toBe(P);
    expect(r.localized.train[0]).toBe(6);
  });
});

describe("entk localization end to end (tiny roberta)", () => {
  let root: string;
  const sst = {
    train: ["a great movie", "terrible acting", "it was fine", "great fun"],
    test: ["so terrible", "fun", "great"],
  };
  const subj = {
    train: ["the movie is long", "i love it", "a film about a man"],
    test: ["it is long", "i love the film"],
  };
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "entk-loc-"));
    await initModel({ arch: "roberta", preset: "tiny", seed: 3, out: join(root, "model") });
    mkdirSync(join(root, "sst"));
    mkdirSync(join(root, "subj"));
    for (const split of ["train", "dev", "test"] as const) {
      const a = split === "dev" ? sst.test : sst[split];
      writeFileSync(
        join(root, "sst", `${split}.tsv`),
        `sentence\tlabel\n${a.map((s, i) => `${s}\t${i % 2}`).join("\n")}\n`,
      );
      const b = split === "dev" ? subj.test : subj[split];
      writeFileSync(join(root, "subj", `${split}.csv`), `${b.map((s, i) => `${i % 2},"${s}"`).join("\n")}\n`);
    }
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("trace of the joint kernel = Σ of each task's own-output diagonal from `entk kernel`; shares sum to 1", async () => {
    const out = join(root, "loc");
    const r = await runLocalization({
      model: join(root, "model"),
      tasks: [loadTask("GLUE-SST-2"), loadTask("subj")],
      splitDirs: [join(root, "sst"), join(root, "subj")],
      heldout: 2,
      topK: 100,
      out,
    });
    expect(r.examples).toEqual({ train: [4, 3], heldout: [2, 2] });
    expect(r.rows.train).toEqual([8, 6]); // 2 label words each
    let diag = 0;
    for (const [task, dir] of [
      ["GLUE-SST-2", "sst"],
      ["subj", "subj"],
    ]) {
      const kdir = join(root, `k-${dir}`);
      const code = await main([
        "node",
        "entk",
        "kernel",
        "--model",
        join(root, "model"),
        "--task",
        task,
        "--split-dir",
        join(root, dir),
        "--formulas",
        "sgd",
        "--eval-splits",
        "test",
        "--no-cache",
        "--quiet",
        "--out",
        kdir,
      ]);
      expect(code).toBe(0);
      const k = readNpy(join(kdir, "kernel.sgd.train.npy"));
      const n = k.shape[0] * k.shape[1];
      for (let i = 0; i < n; i++) diag += (k.data as Float64Array)[i * n + i];
    }
    const trace = r.eigenvalues.reduce((a, b) => a + b, 0);
    expect(Math.abs(trace - diag) / diag).toBeLessThan(1e-6);
    for (const row of r.top) {
      expect(row.train.share[0] + row.train.share[1]).toBeCloseTo(1, 10);
      expect(row.heldout!.share[0] + row.heldout!.share[1]).toBeCloseTo(1, 10);
    }
    const json = JSON.parse(readFileSync(join(out, "localization.json"), "utf8"));
    expect(json.tasks).toEqual(["GLUE-SST-2", "subj"]);
    expect(readFileSync(join(out, "localization.svg"), "utf8")).toMatch(/<circle class="point"/);
  });
});
