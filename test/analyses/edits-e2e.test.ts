/**
 * Edited models on a tiny RoBERTa: the linearized model f₀ + Σ αᵢ Jτᵢ (exact JVPs) equals brute force from the
 * materialized per-example gradients, the nonlinear model at θ₀ + Σ αᵢτᵢ is close to it for small vectors, and
 * `entk arithmetic` / `entk disentangle` write their outputs.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearizedEdits, loadEditSetup, nonlinearEdits } from "../../src/analyses/edit-job.ts";
import { main } from "../../src/cli/main.ts";
import { initModel } from "../../src/model/init/init.ts";
import { loadModel } from "../../src/model/load.ts";
import { createPromptModel } from "../../src/model/prompt-model.ts";
import { loadTask } from "../../src/prompts/task.ts";

let root: string;
const p = (...s: string[]) => join(root, ...s);
const cli = (...a: string[]) => main(["node", "entk", ...a]);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "entk-edits-"));
  for (const [name, seed] of [
    ["base", 0],
    ["far1", 1],
    ["far2", 2],
  ] as const)
    await initModel({ arch: "roberta", preset: "tiny", seed, out: p(name) });
  // Small "fine-tuning" steps: θ_t = θ₀ + 0.02·(θ_far − θ₀), made with the task-vector commands themselves.
  for (const t of ["1", "2"]) {
    expect(await cli("task-vector", "--base", p("base"), "--finetuned", p(`far${t}`), "--out", p(`far${t}.tv`))).toBe(
      0,
    );
    expect(
      await cli(
        "task-vector",
        "apply",
        "--base",
        p("base"),
        "--vectors",
        p(`far${t}.tv`),
        "--alpha",
        "0.02",
        "--out",
        p(`ft${t}`),
      ),
    ).toBe(0);
    expect(await cli("task-vector", "--base", p("base"), "--finetuned", p(`ft${t}`), "--out", p(`tv${t}`))).toBe(0);
  }
  const sst = ["a great movie", "terrible acting", "it was fine", "great fun , great cast", "so terrible", "fun"];
  const subj = ["the movie is long", "i love it", "a film about a man", "it is long", "i love the film"];
  mkdirSync(p("sst"));
  mkdirSync(p("subj"));
  for (const split of ["train", "dev", "test"]) {
    writeFileSync(p("sst", `${split}.tsv`), `sentence\tlabel\n${sst.map((s, i) => `${s}\t${i % 2}`).join("\n")}\n`);
    writeFileSync(p("subj", `${split}.csv`), `${subj.map((s, i) => `${i % 2},"${s}"`).join("\n")}\n`);
  }
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("edited models (tiny roberta)", () => {
  it("linearized = f₀ + Σ αᵢ ⟨∇f(x), τᵢ⟩ from materialized gradients; nonlinear is close for small τ", async () => {
    const s = await loadEditSetup({
      base: p("base"),
      tasks: [loadTask("GLUE-SST-2"), loadTask("subj")],
      splitDirs: [p("sst"), p("subj")],
      vectors: [p("tv1"), p("tv2")],
    });
    const alphas = [0.7, -1.3];
    const lin = await (await linearizedEdits(s)).outputs(alphas);
    const non = await nonlinearEdits(s).outputs(alphas);
    const base = await loadModel(p("base"));
    for (const [t, task] of s.tasks.entries()) {
      const m = createPromptModel(base, task.labelWordIds);
      const f0 = await m.logits(task.inputs);
      const factors = await m.gradFactors(task.inputs);
      const C = task.labelWordIds.length;
      const names = m.params().map((q) => q.name);
      let scale = 0;
      let err = 0;
      let gap = 0;
      factors.forEach((g, i) => {
        for (let c = 0; c < C; c++) {
          let want = f0[i * C + c];
          for (const name of names) {
            const rows = m.materialize(g, name);
            const size = rows.length / C;
            s.vectors.forEach((v, k) => {
              const tau = v.tensors.get(name)!;
              let d = 0;
              for (let j = 0; j < size; j++) d += rows[c * size + j] * tau[j];
              want += alphas[k] * d;
            });
          }
          scale = Math.max(scale, Math.abs(want - f0[i * C + c]));
          err = Math.max(err, Math.abs(lin[t][i * C + c] - want));
          gap = Math.max(gap, Math.abs(non[t][i * C + c] - want));
        }
      });
      expect(scale).toBeGreaterThan(1e-3); // the vectors do move the outputs
      expect(err / scale).toBeLessThan(1e-4);
      expect(gap / scale).toBeLessThan(0.2); // second-order terms of a small step
    }
  });

  it("entk arithmetic --both and entk disentangle write JSON, markdown and heatmaps", async () => {
    const common = [
      "--base",
      p("base"),
      "--tasks",
      "GLUE-SST-2,subj",
      "--vectors",
      `${p("tv1")},${p("tv2")}`,
      "--split-dirs",
      `${p("sst")},${p("subj")}`,
      "--quiet",
    ];
    expect(await cli("arithmetic", ...common, "--both", "--out", p("arith"))).toBe(0);
    const a = JSON.parse(readFileSync(p("arith", "arithmetic.json"), "utf8"));
    expect(Object.keys(a)).toEqual(["nonlinear", "linearized"]);
    expect(a.linearized.addition.grid).toHaveLength(21);
    expect(readFileSync(p("arith", "arithmetic.md"), "utf8")).toMatch(/\| GLUE-SST-2 \| acc \|/);
    expect(await cli("disentangle", ...common, "--grid", "3", "--out", p("dis"))).toBe(0);
    const d = JSON.parse(readFileSync(p("dis", "disentangle.json"), "utf8"));
    expect(d.linearized.xi).toHaveLength(3);
    // At α = (0, 0) both edits are θ₀ itself: no disagreement.
    expect(d.nonlinear.xi[1][1]).toBe(0);
    expect(existsSync(p("dis", "disentangle.nonlinear.svg"))).toBe(true);
    expect(await cli("analyze", "report", p("arith"), p("dis"), "--out", p("rep", "analyses.md"))).toBe(0);
    const md = readFileSync(p("rep", "analyses.md"), "utf8");
    expect(md).toMatch(/## Task arithmetic \(linearized\)/);
    expect(md).toMatch(/## Weight disentanglement: GLUE-SST-2 \+ subj/);
    expect(md).toMatch(/!\[ξ nonlinear\]\(analyses\.files\/2-disentangle\.nonlinear\.svg\)/);
    expect(existsSync(p("rep", "analyses.files", "2-disentangle.linearized.svg"))).toBe(true);
    expect(
      await cli("disentangle", ...common.slice(0, 3), "GLUE-SST-2", "--split-dirs", p("sst"), "--out", p("x")),
    ).toBe(2);
  });
});
