import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadWeightsFromDir } from "../../../src/model/weights/checkpoint.ts";
import {
  f32Bytes,
  handSafetensors,
  rawF32,
  refValues,
  removeTmpDirs,
  tinyConfigJson,
  tinyTensors,
  tmpDir,
  writeTinyModelDir,
} from "./helpers.ts";

afterAll(removeTmpDirs);

const tmp = () => tmpDir("entk-ckpt-");

describe("loading a model directory", () => {
  it("hand-made RoBERTa safetensors: every parameter referenced in place with the right values", async () => {
    const dir = tmp();
    const tensors = tinyTensors("roberta");
    writeTinyModelDir(dir, tinyConfigJson("roberta"), rawF32(tensors));
    const w = await loadWeightsFromDir(dir);
    expect(w.config).toMatchObject({ modelType: "roberta", hiddenSize: 4, vocabSize: 10, padTokenId: 1 });
    expect([...w.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      const ref = w.tensors.get(name)!;
      expect(ref.data).toBeUndefined();
      expect(ref.external!.path).toBe(realpathSync(join(dir, "model.safetensors")));
      expect(ref.shape).toEqual(t.shape);
      expect(refValues(ref)).toEqual(t.values);
    }
    expect(w.files).toEqual(["model.safetensors"]);
    expect(w.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(w.source.dir).toBe(dir);
  });

  it("missing decoder weight → its own parameter initialized from the word embeddings' bytes", async () => {
    const dir = tmp();
    const tensors = tinyTensors("roberta");
    writeTinyModelDir(dir, tinyConfigJson("roberta"), rawF32(tensors, ["lm_head.decoder.weight"]));
    const w = await loadWeightsFromDir(dir);
    const dec = w.tensors.get("lm_head.decoder.weight")!;
    const emb = w.tensors.get("roberta.embeddings.word_embeddings.weight")!;
    expect(dec).not.toBe(emb);
    expect(dec.name).toBe("lm_head.decoder.weight");
    expect(dec.external).toEqual(emb.external);
    expect(refValues(dec)).toEqual(tensors.get("roberta.embeddings.word_embeddings.weight")!.values);
    expect(w.notes.join("\n")).toMatch(/lm_head\.decoder\.weight: not in the checkpoint; initialized from the word/);
    expect([...w.tensors.keys()]).toEqual([...tensors.keys()]); // state-dict order kept
  });

  it("tied weights saved under the decoder's name only → the word embeddings reference the decoder's bytes", async () => {
    const dir = tmp();
    const tensors = tinyTensors("roberta");
    writeTinyModelDir(dir, tinyConfigJson("roberta"), rawF32(tensors, ["roberta.embeddings.word_embeddings.weight"]));
    const w = await loadWeightsFromDir(dir);
    const emb = w.tensors.get("roberta.embeddings.word_embeddings.weight")!;
    expect(emb.name).toBe("roberta.embeddings.word_embeddings.weight");
    expect(emb.external).toEqual(w.tensors.get("lm_head.decoder.weight")!.external);
    expect(refValues(emb)).toEqual(tensors.get("lm_head.decoder.weight")!.values);
    expect(w.notes.join("\n")).toMatch(
      /word_embeddings\.weight: not in the checkpoint; read from "lm_head\.decoder\.weight"/,
    );
  });

  it("lm_head.decoder.bias is the head bias (one parameter, named lm_head.bias)", async () => {
    const dir = tmp();
    const tensors = tinyTensors("roberta");
    const raw = rawF32(tensors).map((t) => (t.name === "lm_head.bias" ? { ...t, name: "lm_head.decoder.bias" } : t));
    writeTinyModelDir(dir, tinyConfigJson("roberta"), raw);
    const w = await loadWeightsFromDir(dir);
    expect(w.tensors.has("lm_head.decoder.bias")).toBe(false);
    expect(refValues(w.tensors.get("lm_head.bias")!)).toEqual(tensors.get("lm_head.bias")!.values);
  });

  it("BERT with legacy gamma/beta names and F16/BF16 tensors (converted to float32 in memory)", async () => {
    const dir = tmp();
    const tensors = tinyTensors("bert");
    const raw = rawF32(tensors, ["cls.predictions.decoder.weight"]).map((t) =>
      t.name.endsWith("LayerNorm.weight") ? { ...t, name: t.name.replace(/weight$/, "gamma") } : t,
    );
    // Two tensors as half precision, the bytes produced by numpy.
    const py = `import sys, numpy as np
v = np.arange(16, dtype=np.float32) / 8 - 1
sys.stdout.write(v.astype(np.float16).tobytes().hex() + " " + (v.view(np.uint32) >> 16).astype(np.uint16).tobytes().hex())`;
    const [f16hex, bf16hex] = execFileSync("python3", ["-c", py], { encoding: "utf8" }).split(" ");
    const expected = Float32Array.from({ length: 16 }, (_, i) => i / 8 - 1); // exact in both formats
    for (const t of raw) {
      if (t.name === "bert.encoder.layer.0.attention.self.query.weight")
        Object.assign(t, { dtype: "F16", bytes: Buffer.from(f16hex, "hex") });
      if (t.name === "bert.encoder.layer.0.attention.self.key.weight")
        Object.assign(t, { dtype: "BF16", bytes: Buffer.from(bf16hex, "hex") });
    }
    writeTinyModelDir(dir, tinyConfigJson("bert"), raw);
    const w = await loadWeightsFromDir(dir);
    expect(refValues(w.tensors.get("bert.embeddings.LayerNorm.weight")!)).toEqual(
      tensors.get("bert.embeddings.LayerNorm.weight")!.values,
    );
    const q = w.tensors.get("bert.encoder.layer.0.attention.self.query.weight")!;
    const k = w.tensors.get("bert.encoder.layer.0.attention.self.key.weight")!;
    expect(q.external).toBeUndefined();
    expect(q.data).toEqual(expected);
    expect(k.data).toEqual(expected);
    expect(w.notes.join("\n")).toMatch(/query\.weight: F16 converted to float32/);
    expect(w.notes.join("\n")).toMatch(/key\.weight: BF16 converted to float32/);
    expect(refValues(w.tensors.get("cls.predictions.decoder.weight")!)).toEqual(
      tensors.get("bert.embeddings.word_embeddings.weight")!.values,
    );
  });

  it("keeps the optional pooler, skips buffers, notes unused tensors", async () => {
    const dir = tmp();
    const raw = rawF32(tinyTensors("roberta"));
    raw.push(
      { name: "roberta.pooler.dense.weight", dtype: "F32", shape: [4, 4], bytes: f32Bytes(new Float32Array(16)) },
      { name: "roberta.pooler.dense.bias", dtype: "F32", shape: [4], bytes: f32Bytes(new Float32Array(4)) },
      { name: "roberta.embeddings.position_ids", dtype: "I64", shape: [1, 8], bytes: new Uint8Array(64) },
      { name: "qa_outputs.weight", dtype: "F32", shape: [2, 4], bytes: f32Bytes(new Float32Array(8)) },
    );
    writeTinyModelDir(dir, tinyConfigJson("roberta"), raw);
    const w = await loadWeightsFromDir(dir);
    expect(w.tensors.has("roberta.pooler.dense.weight")).toBe(true);
    expect(w.tensors.has("roberta.embeddings.position_ids")).toBe(false);
    expect(w.tensors.has("qa_outputs.weight")).toBe(false);
    expect(w.notes.join("\n")).toMatch(/ignored 1 tensor\(s\).*qa_outputs\.weight/);
  });

  it("sharded model.safetensors.index.json", async () => {
    const dir = tmp();
    const tensors = tinyTensors("roberta");
    const raw = rawF32(tensors);
    const half = Math.floor(raw.length / 2);
    const shards = [raw.slice(0, half), raw.slice(half)];
    const names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(tinyConfigJson("roberta")));
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => {
      writeFileSync(join(dir, names[i]), handSafetensors(s));
      for (const t of s) weightMap[t.name] = names[i];
    });
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const w = await loadWeightsFromDir(dir);
    expect(w.files).toEqual(names);
    for (const [name, t] of tensors) expect(refValues(w.tensors.get(name)!)).toEqual(t.values);
    expect(w.tensors.get(raw[raw.length - 1].name)!.external!.path).toBe(realpathSync(join(dir, names[1])));

    // The index disagrees with a shard / names a missing shard.
    const bad = tmp();
    cpSync(dir, bad, { recursive: true });
    const wrong = { ...weightMap, [raw[0].name]: names[1] };
    writeFileSync(join(bad, "model.safetensors.index.json"), JSON.stringify({ weight_map: wrong }));
    await expect(loadWeightsFromDir(bad)).rejects.toThrow(
      `tensor "${raw[0].name}" is stored in ${names[0]} but the index says ${names[1]}`,
    );
    writeFileSync(
      join(bad, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { ...weightMap, extra: "model-00003-of-00003.safetensors" } }),
    );
    await expect(loadWeightsFromDir(bad)).rejects.toThrow(/shard model-00003-of-00003\.safetensors is missing/);
    writeFileSync(join(bad, "model.safetensors.index.json"), "{]");
    await expect(loadWeightsFromDir(bad)).rejects.toThrow(/model\.safetensors\.index\.json: not valid JSON/);
  });

  it("shape mismatch against config.json names file and tensor", async () => {
    const dir = tmp();
    writeTinyModelDir(dir, tinyConfigJson("roberta", { intermediate_size: 16 }), rawF32(tinyTensors("roberta")));
    await expect(loadWeightsFromDir(dir)).rejects.toThrow(
      `${join(dir, "model.safetensors")}: tensor "roberta.encoder.layer.0.intermediate.dense.weight" has shape [8,4] ` +
        "but config.json implies [16,4]",
    );
  });

  it("a base model without the MLM head is refused clearly", async () => {
    const dir = tmp();
    const raw = rawF32(tinyTensors("roberta")).filter((t) => !t.name.startsWith("lm_head."));
    writeTinyModelDir(dir, tinyConfigJson("roberta"), raw);
    await expect(loadWeightsFromDir(dir)).rejects.toThrow(/missing 5 tensor\(s\).*no masked-LM head found/);
  });

  it("integer dtype for a parameter is refused", async () => {
    const dir = tmp();
    const raw = rawF32(tinyTensors("roberta")).map((t) => (t.name === "lm_head.bias" ? { ...t, dtype: "I32" } : t));
    writeTinyModelDir(dir, tinyConfigJson("roberta"), raw);
    await expect(loadWeightsFromDir(dir)).rejects.toThrow(/tensor "lm_head\.bias" has dtype I32; expected a float/);
  });

  it("pytorch_model.bin-only directory → how to convert", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "config.json"), JSON.stringify(tinyConfigJson("bert")));
    writeFileSync(join(dir, "pytorch_model.bin"), "pickle");
    await expect(loadWeightsFromDir(dir)).rejects.toThrow(/only PyTorch weights.*\n.*safe_serialization=True/);
    const empty = tmp();
    writeFileSync(join(empty, "config.json"), JSON.stringify(tinyConfigJson("bert")));
    await expect(loadWeightsFromDir(empty)).rejects.toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
  });

  it("weights hash: content-addressed, cached beside the file, sensitive to every byte", async () => {
    const a = tmp();
    const tensors = tinyTensors("roberta");
    writeTinyModelDir(a, tinyConfigJson("roberta"), rawF32(tensors));
    const b = tmp();
    cpSync(a, b, { recursive: true });
    const ha = (await loadWeightsFromDir(a)).hash;
    expect(existsSync(join(a, ".model.safetensors.entk-sha256.json"))).toBe(true);
    expect((await loadWeightsFromDir(b)).hash).toBe(ha);
    expect((await loadWeightsFromDir(a)).hash).toBe(ha); // from the cache
    const st = readFileSync(join(b, "model.safetensors"));
    st[st.length - 1] ^= 1;
    writeFileSync(join(b, "model.safetensors"), st);
    expect((await loadWeightsFromDir(b)).hash).not.toBe(ha);
    // The config is part of the identity too.
    const c = tmp();
    writeTinyModelDir(c, tinyConfigJson("roberta", { layer_norm_eps: 1e-6 }), rawF32(tensors));
    expect((await loadWeightsFromDir(c)).hash).not.toBe(ha);
  });
});
