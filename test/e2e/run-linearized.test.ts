import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { methodSpecWithVariant } from "../../src/cli/variant-flags.ts";
import { parseMethodSpec, validateSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";
import { methodInfo } from "../../src/report/methods.ts";
import { readNpy } from "../../src/util/npy.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const entk = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, "bin/entk.js"), ...args], { encoding: "utf8", timeout: 90_000, cwd: root });

describe("ft-lin and posthoc-lin in sweeps", () => {
  it("ft-lin parses like ft (no model variants) and expands to ft-lin:<optimizer> jobs; ft job keys are unchanged", () => {
    const ft = parseMethodSpec("ft:sgd:lr=1e-3:bs=4:steps=5");
    const lin = parseMethodSpec("ft-lin:sgd:lr=1e-3:bs=4:steps=5");
    expect(lin).toEqual({ ...ft, kind: "ft-lin" });
    expect(() => parseMethodSpec("ft-lin:sgd:lr=1:bs=1:steps=1:loraR=2")).toThrow(/loraR: unknown key/);
    // entk run --no-prompt with ft-lin is refused by name, not silently run prompted.
    expect(() => parseMethodSpec(methodSpecWithVariant("ft-lin:sgd", { noPrompt: true }))).toThrow(
      /noPrompt: unknown key/,
    );
    expect(() => parseMethodSpec("ft-lin:rmsprop")).toThrow(/optimizer: expected one of "sgd", "signgd", "adam"/);
    const base = { model: "m", data: "d", tasks: ["spam"], k: [4], seeds: [13], out: "o" };
    const ftEntry = { kind: "ft", optimizer: "adam", lr: 1e-3, batchSize: 4, steps: 5 };
    const alone = expandJobs(validateSweepConfig({ ...base, methods: [ftEntry] }));
    const both = expandJobs(validateSweepConfig({ ...base, methods: [ftEntry, { ...ftEntry, kind: "ft-lin" }] }));
    expect(both.map((j) => j.method)).toEqual(["ft:adam", "ft-lin:adam"]);
    expect(both[0].key).toBe(alone[0].key);
    expect(both[1].key).not.toBe(both[0].key);
    expect(both[1].hyperparameters).toEqual(both[0].hyperparameters);
  });

  it("report rows sit next to their fine-tuning row and carry no paper number", () => {
    expect(methodInfo("ft-lin:sgd")).toEqual({ label: "SGD-FT (linearized)", order: 0.1 });
    expect(methodInfo("posthoc-lin:adam")).toEqual({ label: "Adam-FT (post-hoc linearized)", order: 2.2 });
  });

  it("entk run ft:sgd,ft-lin:sgd writes ft, posthoc-lin and ft-lin records; entk report shows the three rows", () => {
    const out = mkdtempSync(join(tmpdir(), "entk-lin-e2e-"));
    const hp = "lr=1e-3:bs=4:steps=4:evalEvery=2";
    const run = entk(
      ...["run", "--task", "spam", "--k", "4", "--seed", "13", "--model", "models/tiny-roberta"],
      ...["--methods", `ft:sgd:${hp},ft-lin:sgd:${hp}`, "--data-dir", "datasets/original", "--limit-eval", "12"],
      ...["--out", out, "--quiet"],
    );
    expect(run.stderr).toContain("run: 2 jobs ran, 0 were already done, 0 failed");
    expect(run.status).toBe(0);
    const recs = readFileSync(join(out, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // Jobs may finish in either order; an ft job's two records are written together.
    expect(recs.map((r) => r.method).sort()).toEqual(["ft-lin:sgd", "ft:sgd", "posthoc-lin:sgd"]);
    const [ft, posthoc, lin] = ["ft:sgd", "posthoc-lin:sgd", "ft-lin:sgd"].map((m) => recs.find((r) => r.method === m));
    expect(posthoc.key).toBe(ft.key);
    expect(posthoc.hyperparameters).toEqual(ft.hyperparameters);
    expect(lin.hyperparameters).toEqual(ft.hyperparameters);
    // The posthoc-lin metrics are those of f₀ + J·τ at the ft job's best checkpoint, as written beside it.
    const dir = join(out, "jobs", ft.key, "posthoc-lin");
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.checkpoint).toBe(join(out, "jobs", ft.key, "ft", "best"));
    for (const split of ["dev", "test"] as const) {
      const z = readNpy(join(dir, `logits.${split}.lin.alpha1.npy`)) as { data: Float32Array; shape: number[] };
      const y = readNpy(join(dir, `labels.${split}.npy`)).data;
      const K = z.shape[1];
      let ok = 0;
      for (let i = 0; i < y.length; i++) {
        const row = Array.from(z.data.subarray(i * K, (i + 1) * K));
        ok += Number(row.indexOf(Math.max(...row)) === y[i]);
      }
      expect(y.length).toBe(split === "dev" ? 8 : 12);
      expect(posthoc[split].acc).toBeCloseTo(ok / y.length, 12);
    }
    // The ft-lin job trained the linearized model: its checkpoint carries the linearization card.
    expect(existsSync(join(out, "jobs", lin.key, "ft", "best", "entk-linearized.json"))).toBe(true);

    const md = join(out, "report.md");
    const rep = entk("report", out, "--out", md);
    expect(rep.status).toBe(0);
    const table = readFileSync(md, "utf8").split("## Charts")[0];
    const rows = table
      .split("\n")
      .filter((l) => l.startsWith("| 4 |"))
      .map((l) => l.split("|")[2].trim());
    expect(rows).toEqual(["SGD-FT", "SGD-FT (linearized)", "SGD-FT (post-hoc linearized)"]);
  }, 90_000);
});
