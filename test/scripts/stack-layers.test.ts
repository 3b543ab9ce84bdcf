import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { stackedNames } from "../../scripts/stack-layers.ts";
import { loadModel } from "../../src/model/load.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import { probeLogits } from "../../src/pipelines/probe-logits.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { tensorValues } from "../../src/training/hf-checkpoint.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MINI = join(ROOT, "models/entk-mini");
const dir = mkdtempSync(join(tmpdir(), "entk-stack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stack = (out: string, order: string) =>
  spawnSync(
    join(ROOT, "node_modules/.bin/tsx"),
    ["scripts/stack-layers.ts", "--model", MINI, "--out", out, "--order", order],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );

describe("scripts/stack-layers.ts", () => {
  it("maps new layer i to old layer order[i], other tensors to themselves, and refuses unknown layers", () => {
    const names = [
      "emb",
      "roberta.encoder.layer.0.q",
      "roberta.encoder.layer.0.k",
      "roberta.encoder.layer.1.q",
      "head",
    ];
    expect(stackedNames(names, 2, [1, 0, 1])).toEqual([
      ["emb", "emb"],
      ["roberta.encoder.layer.0.q", "roberta.encoder.layer.1.q"],
      ["roberta.encoder.layer.1.q", "roberta.encoder.layer.0.q"],
      ["roberta.encoder.layer.2.q", "roberta.encoder.layer.1.q"],
      ["roberta.encoder.layer.0.k", "roberta.encoder.layer.1.k"],
      ["roberta.encoder.layer.1.k", "roberta.encoder.layer.0.k"],
      ["roberta.encoder.layer.2.k", "roberta.encoder.layer.1.k"],
      ["head", "head"],
    ]);
    expect(() => stackedNames(names, 2, [0, 2])).toThrow(/layer 2 is not one of the model's layers 0…1/);
  });

  it("copies entk-mini's layers in the given order (the identity order computes the same logits)", async () => {
    const deeper = join(dir, "deeper");
    expect(stack(deeper, "3,1,1").status).toBe(0);
    expect(JSON.parse(readFileSync(join(deeper, "config.json"), "utf8")).num_hidden_layers).toBe(3);
    const [a, b] = [await loadWeightsFromDir(MINI), await loadWeightsFromDir(deeper)];
    const v = (w: typeof a, name: string) => Array.from(tensorValues(w.tensors.get(name)!));
    const q = (l: number) => `roberta.encoder.layer.${l}.attention.self.query.weight`;
    expect(v(b, q(0))).toEqual(v(a, q(3)));
    expect(v(b, q(2))).toEqual(v(a, q(1)));
    expect(v(b, "lm_head.decoder.weight")).toEqual(v(a, "lm_head.decoder.weight"));

    const same = join(dir, "same");
    expect(stack(same, "0,1,2,3").status).toBe(0);
    const tok = await loadTokenizer(MINI);
    const probes = [{ task: "GLUE-SST-2", texts: ["a warm and funny film"] }];
    const [p, s] = [
      await probeLogits(await loadModel(MINI), tok, probes),
      await probeLogits(await loadModel(same), tok, probes),
    ];
    expect(s[0].logits).toEqual(p[0].logits);
    const d = await probeLogits(await loadModel(deeper), tok, probes);
    expect(d[0].logits).not.toEqual(p[0].logits);
  });
});
