/**
 * `entk kernel --formulas linear,rbf,sgd` on a tiny model: the classic kernels are k(φ, φ')·δ_cc' of the mask
 * feature φ = h̃ computed independently with tfjs, written in the kernel-directory layout beside the eNTK, and
 * `entk solve` fits them like any kernel.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { initModel } from "../../src/model/init/init.ts";
import { loadModel } from "../../src/model/load.ts";
import { readNpy } from "../../src/util/npy.ts";
import { tfMaskFeature, tfParams } from "../model/reference-tf.ts";

let root: string;
const SENTS = ["a great movie", "terrible acting", "it was fine", "great fun , great cast", "so terrible", "fun"];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "entk-classic-"));
  await initModel({ arch: "roberta", preset: "tiny", seed: 2, out: join(root, "model") });
  mkdirSync(join(root, "split"));
  for (const split of ["train", "dev", "test"])
    writeFileSync(
      join(root, "split", `${split}.tsv`),
      `sentence\tlabel\n${SENTS.map((s, i) => `${s}\t${i % 2}`).join("\n")}\n`,
    );
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("classic kernels in entk kernel", () => {
  it("linear and rbf kernels equal the tfjs features' formulas; solve works on them", async () => {
    const out = join(root, "k");
    const args = ["kernel", "--model", join(root, "model"), "--task", "GLUE-SST-2", "--split-dir", join(root, "split")];
    expect(
      await main([
        "node",
        "entk",
        ...args,
        "--formulas",
        "linear,rbf,sgd",
        "--eval-splits",
        "dev",
        "--no-cache",
        "--quiet",
        "--out",
        out,
      ]),
    ).toBe(0);
    const meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8"));
    expect(meta.kernels).toEqual(expect.arrayContaining(["linear", "rbf", "sgd"]));
    const sigma = meta.flags.classic.sigma as number;
    const w = await loadModel(join(root, "model"));
    const p = tfParams(w);
    const inputs = readFileSync(join(out, "inputs.train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const phi = inputs.map((x) =>
      Array.from(tfMaskFeature(w, p, { inputIds: x.input_ids, maskPos: x.mask_pos }).dataSync()),
    );
    const n = phi.length;
    const lin = readNpy(join(out, "kernel.linear.train.npy"));
    const rbf = readNpy(join(out, "kernel.rbf.train.npy"));
    expect(lin.shape).toEqual([n, 2, n, 2]);
    const at = (k: { data: unknown }, i: number, c: number, j: number, d: number) =>
      (k.data as Float64Array)[((i * 2 + c) * n + j) * 2 + d];
    const dists: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let dot = 0;
        let d2 = 0;
        for (let h = 0; h < phi[i].length; h++) {
          dot += phi[i][h] * phi[j][h];
          d2 += (phi[i][h] - phi[j][h]) ** 2;
        }
        if (i < j) dists.push(Math.sqrt(d2));
        expect(at(lin, i, 0, j, 0)).toBeCloseTo(dot, 3);
        expect(at(lin, i, 1, j, 1)).toBeCloseTo(dot, 3);
        expect(at(lin, i, 0, j, 1)).toBe(0);
        expect(at(rbf, i, 1, j, 1)).toBeCloseTo(Math.exp(-d2 / (2 * sigma * sigma)), 4);
      }
    dists.sort((a, b) => a - b);
    expect(sigma).toBeCloseTo(dists[Math.floor((dists.length - 1) / 2)], 4); // median heuristic
    expect(await main(["node", "entk", "solve", "--kernels", out, "--formula", "rbf", "--solver", "lstsq"])).toBe(0);
  });
});
