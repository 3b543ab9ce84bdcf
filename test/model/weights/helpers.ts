import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A fresh temp directory, removed by {@link removeTmpDirs} (call it in afterAll). */
export function tmpDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function removeTmpDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A tensor for a hand-made safetensors file: raw little-endian bytes as they go on disk. */
export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const a = Float32Array.from(values);
  return new Uint8Array(a.buffer);
}

/** Build safetensors bytes by hand (independent of src/): u64 LE header length, JSON header, data. */
export function handSafetensors(
  tensors: RawTensor[],
  opts: { metadata?: Record<string, string>; pad?: number; header?: Record<string, unknown> } = {},
): Uint8Array {
  const header: Record<string, unknown> = opts.metadata ? { __metadata__: opts.metadata } : {};
  let pos = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [pos, pos + t.bytes.length] };
    pos += t.bytes.length;
  }
  Object.assign(header, opts.header ?? {});
  const json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(opts.pad ?? 0));
  const out = new Uint8Array(8 + json.length + pos);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let off = 8 + json.length;
  for (const t of tensors) {
    out.set(t.bytes, off);
    off += t.bytes.length;
  }
  return out;
}

/** A tiny config.json (H=4, 1 layer, 2 heads, FFN 8, vocab 10, 8 positions). */
export function tinyConfigJson(modelType: "roberta" | "bert", extra: Record<string, unknown> = {}) {
  return {
    model_type: modelType,
    vocab_size: 10,
    hidden_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 8,
    max_position_embeddings: 8,
    type_vocab_size: modelType === "roberta" ? 1 : 2,
    layer_norm_eps: 1e-5,
    pad_token_id: modelType === "roberta" ? 1 : 0,
    hidden_act: "gelu",
    ...extra,
  };
}

/** Every parameter name and shape of the tiny config, written out by hand (not from src/model/weights/params). */
export function tinyParamShapes(modelType: "roberta" | "bert"): [string, number[]][] {
  const p = modelType;
  const L = `${p}.encoder.layer.0`;
  const lin = (n: string, o: number, i: number): [string, number[]][] => [
    [`${n}.weight`, [o, i]],
    [`${n}.bias`, [o]],
  ];
  const ln = (n: string): [string, number[]][] => [
    [`${n}.weight`, [4]],
    [`${n}.bias`, [4]],
  ];
  const head: [string, number[]][] =
    modelType === "roberta"
      ? [
          ...lin("lm_head.dense", 4, 4),
          ...ln("lm_head.layer_norm"),
          ["lm_head.decoder.weight", [10, 4]],
          ["lm_head.bias", [10]],
        ]
      : [
          ...lin("cls.predictions.transform.dense", 4, 4),
          ...ln("cls.predictions.transform.LayerNorm"),
          ["cls.predictions.decoder.weight", [10, 4]],
          ["cls.predictions.bias", [10]],
        ];
  return [
    [`${p}.embeddings.word_embeddings.weight`, [10, 4]],
    [`${p}.embeddings.position_embeddings.weight`, [8, 4]],
    [`${p}.embeddings.token_type_embeddings.weight`, [modelType === "roberta" ? 1 : 2, 4]],
    ...ln(`${p}.embeddings.LayerNorm`),
    ...lin(`${L}.attention.self.query`, 4, 4),
    ...lin(`${L}.attention.self.key`, 4, 4),
    ...lin(`${L}.attention.self.value`, 4, 4),
    ...lin(`${L}.attention.output.dense`, 4, 4),
    ...ln(`${L}.attention.output.LayerNorm`),
    ...lin(`${L}.intermediate.dense`, 8, 4),
    ...lin(`${L}.output.dense`, 4, 8),
    ...ln(`${L}.output.LayerNorm`),
    ...head,
  ];
}

/** Distinct, recognisable float32 values per tensor: tensor k, element i → k + i / 1000. */
export function tinyTensors(modelType: "roberta" | "bert"): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  tinyParamShapes(modelType).forEach(([name, shape], k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    out.set(name, { shape, values: Float32Array.from({ length: n }, (_, i) => k + i / 1000) });
  });
  return out;
}

/** Write a model directory: config.json and a hand-made model.safetensors of the given tensors. */
export function writeTinyModelDir(dir: string, config: object, tensors: RawTensor[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  writeFileSync(join(dir, "model.safetensors"), handSafetensors(tensors));
}

export function rawF32(map: Map<string, { shape: number[]; values: Float32Array }>, skip: string[] = []): RawTensor[] {
  return [...map]
    .filter(([n]) => !skip.includes(n))
    .map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, bytes: f32Bytes(t.values) }));
}

/** A TensorRef's values: in-memory data, or the external bytes straight from the file. */
export { readTensor as refValues } from "../../../src/model/arch/prompt-graph.ts";
