/**
 * `entk linearize` against brute force: f₀ + α J τ must equal f₀ + α Σ_θ ⟨∂f/∂θ, τ⟩ with ∂f/∂θ materialized from
 * the per-example reverse-mode gradient factors, and f(θ₀ + τ) must equal the checkpoint loaded as a model.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { linearize } from "../../src/analyses/linearize.ts";
import { taskVector } from "../../src/analyses/task-vectors.ts";
import { main } from "../../src/cli/main.ts";
import { subsample } from "../../src/data/subsample.ts";
import { initModel } from "../../src/model/init/init.ts";
import { createPromptModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import { loadFinetuneData } from "../../src/pipelines/prompted-splits.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { readNpy } from "../../src/util/npy.ts";
import { baseAndCheckpoint, spamSplit } from "./fixtures.ts";

afterAll(releaseSessions);

describe("post-hoc linearization", () => {
  let root: string;
  let modelDir: string;
  let ckptDir: string;
  let split: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "entk-lin-"));
    ({ modelDir, ckptDir } = await baseAndCheckpoint(root, 0.01));
    split = await spamSplit(join(root, "data"));
  });

  it("f₀ + αJτ equals the brute-force sum over materialized per-example gradients; f(θ₀ + τ) equals the checkpoint", async () => {
    const out = join(root, "out");
    const s = await linearize({
      model: modelDir,
      checkpoint: ckptDir,
      task: "spam",
      splitDir: split,
      evalSplits: ["dev"],
      alphas: [0, 0.5, 1],
      limitEval: 8,
      out,
      threads: 1,
      quiet: true,
    });
    const base = await loadWeightsFromDir(modelDir);
    const ckpt = await loadWeightsFromDir(ckptDir);
    const tau = taskVector(base, ckpt);
    const task = loadTask("spam");
    const data = loadFinetuneData(task, split, await loadTokenizer(modelDir), { limitTest: 8 });
    const dev = subsample(data.dev, 8);
    const inputs = dev.map((e) => e.input);
    const pm = createPromptModel(base, data.labelWordIds, { threads: 1 });
    const factors = await pm.gradFactors(inputs);
    const f0 = await pm.logits(inputs);
    const K = data.labelWordIds.length;
    const brute = new Float64Array(inputs.length * K);
    inputs.forEach((_, i) => {
      for (let c = 0; c < K; c++) {
        let jt = 0;
        for (const [n, t] of tau) {
          const rows = pm.materialize(factors[i], n);
          for (let k = 0; k < t.length; k++) jt += rows[c * t.length + k] * t[k];
        }
        brute[i * K + c] = jt;
      }
    });
    const jv = readNpy(join(out, "jvp.dev.npy")).data as Float32Array;
    const flin = readNpy(join(out, "logits.dev.lin.alpha0.5.npy")).data as Float32Array;
    const mag = Math.max(...brute.map(Math.abs));
    expect(mag).toBeGreaterThan(1e-3);
    brute.forEach((b, i) => {
      expect(Math.abs(jv[i] - b)).toBeLessThan(1e-4 * mag);
      expect(Math.abs(flin[i] - (f0[i] + 0.5 * b))).toBeLessThan(1e-4 * (1 + Math.abs(f0[i])));
    });
    const f1 = readNpy(join(out, "logits.dev.alpha1.npy")).data as Float32Array;
    const want = await createPromptModel(ckpt, data.labelWordIds, { threads: 1 }).logits(inputs);
    want.forEach((x, i) => {
      expect(Math.abs(f1[i] - x)).toBeLessThan(1e-5 * (1 + Math.abs(x)));
    });
    // The summary: α = 0 is f₀ itself; the Taylor remainder makes ‖f − f_lin‖/‖f − f₀‖ grow ∝ α.
    const rows = s.splits.dev!.alphas;
    expect(rows[0]).toMatchObject({ alpha: 0, agreement: 1, relDistance: null });
    expect(rows[0].model).toEqual(s.splits.dev!.base);
    const [r05, r1] = [rows[1].relDistance!, rows[2].relDistance!];
    expect(r1).toBeGreaterThan(0);
    expect(r1).toBeLessThan(0.5);
    expect(r05 / r1).toBeGreaterThan(0.4);
    expect(r05 / r1).toBeLessThan(0.6);
  });

  it("the CLI writes the .npy files and summary.json; a checkpoint of another shape is a clear error", async () => {
    const out = join(root, "cli");
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const args = ["--model", modelDir, "--task", "spam", "--split-dir", split, "--limit-eval", "4", "--quiet"];
    const code = await main([
      "node",
      "entk",
      "linearize",
      ...args,
      "--checkpoint",
      ckptDir,
      "--out",
      out,
      "--alpha",
      "1",
    ]);
    write.mockRestore();
    expect(code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(Object.keys(s.splits)).toEqual(["dev", "test"]);
    expect(s.splits.test.n).toBe(4);
    expect(readNpy(join(out, "logits.test.lin.alpha1.npy")).shape).toEqual([4, 2]);
    const other = join(root, "other");
    await mkdir(other);
    await initModel({ arch: "roberta", preset: "small", seed: 1, out: other, writeTokenizer: writeTokenizerFiles });
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const bad = await main(["node", "entk", "linearize", ...args, "--checkpoint", other, "--out", join(root, "x")]);
    const msg = err.mock.calls.map((c) => String(c[0])).join("");
    err.mockRestore();
    expect(bad).toBe(1);
    expect(msg).toMatch(/other: .* has shape \[.*\], the base model's is/);
  });
});
