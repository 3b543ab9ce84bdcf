import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initModel } from "../../../src/model/init/init.ts";
import { TensorRng } from "../../../src/model/init/rng.ts";
import { loadWeightsFromDir } from "../../../src/model/weights/checkpoint.ts";
import { loadTokenizer } from "../../../src/tokenizer/load.ts";
import { expectOptionRejection } from "../../helpers/option-error.ts";
import { refValues, removeTmpDirs, tmpDir } from "../weights/helpers.ts";

const tmp = () => tmpDir("entk-init-");
afterAll(removeTmpDirs);

/** Every tensor of a safetensors file as parsed by numpy (independent reader). */
function numpyTensors(path: string): Record<string, { shape: number[]; values: number[] }> {
  const py = `
import json, struct, sys, numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
out = {}
for k, v in h.items():
    assert v["dtype"] == "F32"
    s, e = v["data_offsets"]
    out[k] = {"shape": v["shape"], "values": np.frombuffer(b[8 + n + s:8 + n + e], "<f4").tolist()}
print(json.dumps(out))`;

  return JSON.parse(execFileSync("python3", ["-c", py, path], { encoding: "utf8", maxBuffer: 1 << 28 }));
}

const stats = (v: ArrayLike<number>) => {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < v.length; i++) {
    s += v[i];
    s2 += v[i] * v[i];
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean) };
};

describe("model init", () => {
  it("tiny RoBERTa: init → load round trip gives the same tensors numpy reads; HF layout; tokenizer vocab", async () => {
    const dir = tmp();
    const r = await initModel({ arch: "roberta", preset: "tiny", seed: 7, out: dir });
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(cfg).toMatchObject({ model_type: "roberta", hidden_size: 16, num_hidden_layers: 2, pad_token_id: 1 });
    const tok = await loadTokenizer(dir);
    expect(cfg.vocab_size).toBe(tok.vocabSize);
    const w = await loadWeightsFromDir(dir);
    expect(w.config).toEqual(r.config);
    expect(w.notes).toEqual([]); // decoder weight present, all F32
    const np = numpyTensors(join(dir, "model.safetensors"));
    expect(Object.keys(np).sort()).toEqual([...w.tensors.keys()].sort());
    expect(np["lm_head.decoder.weight"].shape).toEqual([tok.vocabSize, 16]);
    for (const [name, ref] of w.tensors) {
      expect(ref.external).toBeDefined();
      expect(ref.shape).toEqual(np[name].shape);
      expect([...refValues(ref)]).toEqual(np[name].values);
    }
    // tiny: biases and LayerNorm parameters are random too; the decoder is not the embedding matrix.
    expect(stats(refValues(w.tensors.get("lm_head.bias")!)).std).toBeGreaterThan(0.05);
    expect(stats(refValues(w.tensors.get("roberta.embeddings.LayerNorm.weight")!)).mean).toBeCloseTo(1, 1);
    expect(refValues(w.tensors.get("lm_head.decoder.weight")!)).not.toEqual(
      refValues(w.tensors.get("roberta.embeddings.word_embeddings.weight")!),
    );
  });

  it("is deterministic in the seed", async () => {
    const [a, b, c] = [tmp(), tmp(), tmp()];
    await initModel({ arch: "bert", preset: "tiny", seed: 3, out: a });
    await initModel({ arch: "bert", preset: "tiny", seed: 3, out: b });
    await initModel({ arch: "bert", preset: "tiny", seed: 4, out: c });
    const st = (d: string) => readFileSync(join(d, "model.safetensors"));
    expect(st(a).equals(st(b))).toBe(true);
    expect(st(a).equals(st(c))).toBe(false);
    expect((await loadWeightsFromDir(a)).hash).toBe((await loadWeightsFromDir(b)).hash);
  });

  it("small BERT: HF init statistics (N(0, 0.02) weights, zero biases, unit LayerNorm, zero padding rows)", async () => {
    const dir = tmp();
    await initModel({ arch: "bert", preset: "small", seed: 1, out: dir });
    const w = await loadWeightsFromDir(dir);
    expect(w.tensors.has("cls.predictions.decoder.weight")).toBe(true);
    expect(w.tensors.has("cls.predictions.transform.LayerNorm.weight")).toBe(true);
    const ffn = stats(refValues(w.tensors.get("bert.encoder.layer.3.intermediate.dense.weight")!)); // 16384 values
    expect(Math.abs(ffn.mean)).toBeLessThan(0.001);
    expect(ffn.std).toBeGreaterThan(0.0195);
    expect(ffn.std).toBeLessThan(0.0205);
    expect(new Set(refValues(w.tensors.get("bert.encoder.layer.0.output.dense.bias")!))).toEqual(new Set([0]));
    expect(new Set(refValues(w.tensors.get("bert.encoder.layer.0.output.LayerNorm.weight")!))).toEqual(new Set([1]));
    const H = w.config.hiddenSize;
    const emb = refValues(w.tensors.get("bert.embeddings.word_embeddings.weight")!);
    expect([...emb.subarray(0, H)]).toEqual(new Array(H).fill(0)); // pad id 0
    expect(emb.subarray(H, 2 * H).some((x) => x !== 0)).toBe(true);
  });

  it("refuses to overwrite a model without force", async () => {
    const dir = tmp();
    await initModel({ arch: "roberta", preset: "tiny", seed: 1, out: dir });
    await expectOptionRejection(
      initModel({ arch: "roberta", preset: "tiny", seed: 2, out: dir }),
      "force",
      /already holds config\.json, model\.safetensors, tokenizer\.json.*force/,
    );
    await initModel({ arch: "roberta", preset: "tiny", seed: 2, out: dir, force: true });
  });
});

describe("TensorRng", () => {
  it("xoshiro128** matches the reference output for state (1, 2, 3, 4)", () => {
    const r = TensorRng.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it("normal samples: mean 0, variance 1, kurtosis 3; streams differ per name", () => {
    const r = new TensorRng(0, "x");
    const n = 200_000;
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      m1 += z;
      m2 += z * z;
      m4 += z ** 4;
    }
    expect(Math.abs(m1 / n)).toBeLessThan(0.01);
    expect(Math.abs(m2 / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(m4 / n - 3)).toBeLessThan(0.1);
    expect(new TensorRng(0, "a").normal()).not.toBe(new TensorRng(0, "b").normal());
    expect(new TensorRng(0, "a").normal()).toBe(new TensorRng(0, "a").normal());
  });
});
