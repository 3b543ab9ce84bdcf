import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { computeKernels } from "../../src/kernels/compute.ts";
import { createPromptModel, createTrainableModel, type TrainableModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import type { PromptInput } from "../../src/model/types.ts";
import { CLASSIFIER, type LoraSpec, loraNames } from "../../src/model/variant.ts";
import { initLoraTensors, mergeLora, withLora, withTensors } from "../../src/model/variant-weights.ts";
import { rand } from "./graph/harness.ts";
import { tfHidden, tfParams } from "./reference-tf.ts";
import { randomInputs, tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

const cfg = tinyConfig("roberta");
const base = tinyWeights(cfg, 4);
const H = cfg.hiddenSize;
const LORA: LoraSpec = { r: 2, alpha: 6, targets: ["query", "value"] };

/** Base weights plus a random classifier with K rows. */
function withClassifier(K: number) {
  return withTensors(base, [
    { name: CLASSIFIER.weight, shape: [K, H], data: Float32Array.from(rand(K * H, 91, 0.8)) },
    { name: CLASSIFIER.bias, shape: [K], data: Float32Array.from(rand(K, 92, 0.3)) },
  ]);
}

/** LoRA weights with every B random (nonzero), so that A's gradients do not vanish. */
function loraWithRandomB(w = base) {
  const t = initLoraTensors(w, LORA, 5).map((x, i) =>
    /lora_B$/.test(x.name) ? { ...x, data: Float32Array.from(rand(x.data.length, 300 + i, 0.5)) } : x,
  );
  return withTensors(w, t);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, off = 0) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[off + i] * b[i];
  return s;
};

/** Central differences of f (float64 trainable graph) along a random direction over every trainable parameter. */
async function fdAlong(tm: TrainableModel<Float64Array>, inputs: PromptInput[], seed: number) {
  let k = 0;
  const V = new Map([...tm.params].map(([n, v]) => [n, rand(v.length, seed + ++k)]));
  const base0 = new Map([...tm.params].map(([n, v]) => [n, v.slice()]));
  const at = async (s: number) => {
    for (const [n, v] of tm.params) {
      const b = base0.get(n)!;
      const d = V.get(n)!;
      for (let i = 0; i < v.length; i++) v[i] = b[i] + s * 1e-5 * d[i];
    }
    return Array.from(await tm.logits(inputs));
  };
  const plus = await at(1);
  const minus = await at(-1);
  await at(0);
  return { V, fd: plus.map((p, i) => (p - minus[i]) / 2e-5) };
}

describe("no-prompt model: f = classifier(h_<s>)", () => {
  const inputs = randomInputs(cfg, 4, 7).map((x) => ({ ...x, maskPos: 0 }));

  it("logits equal the classifier applied to tfjs's position-0 hidden state", async () => {
    const w = withClassifier(3);
    const m = createPromptModel(w, [], { threads: 1, variant: { noPrompt: true } });
    expect(m.C).toBe(3);
    const got = await m.logits(inputs);
    const p = tfParams(w);
    inputs.forEach((x, i) => {
      const h0 = tf.gather(tfHidden(w, p, x), [0]);
      const want = tf
        .add(tf.matMul(h0 as tf.Tensor2D, p[CLASSIFIER.weight] as tf.Tensor2D, false, true), p[CLASSIFIER.bias])
        .dataSync();
      for (let c = 0; c < 3; c++) expect(Math.abs(got[i * 3 + c] - want[c])).toBeLessThan(1e-5);
    });
  });

  for (const binary of [false, true])
    it(`gradient factors equal float64 finite differences; the MLM head is not a parameter${binary ? " (binary)" : ""}`, async () => {
      const K = binary ? 2 : 3;
      const w = withClassifier(K);
      const variant = { noPrompt: true };
      const tm = createTrainableModel(w, [], { dtype: "float64", threads: 1, variant });
      expect(tm.params.has(CLASSIFIER.weight)).toBe(true);
      expect([...tm.params.keys()].some((n) => n.startsWith("lm_head"))).toBe(false);
      const m = createPromptModel(w, [], { threads: 1, binary, variant });
      const f = await m.gradFactors(inputs);
      expect(f[0].zero).toEqual(expect.arrayContaining(["lm_head.decoder.weight", "lm_head.dense.weight"]));
      const C = binary ? 1 : K;
      const { V, fd } = await fdAlong(tm, inputs, 40);
      inputs.forEach((_, i) => {
        for (let c = 0; c < C; c++) {
          let a = 0;
          for (const [n, v] of V) a += dot(m.materialize(f[i], n), v, c * v.length);
          const want = binary ? fd[i * 2 + 1] - fd[i * 2] : fd[i * K + c];
          expect(Math.abs(a - want) / Math.abs(want)).toBeLessThan(1e-4);
        }
      });
    });
});

describe("LoRA on query and value", () => {
  const inputs = randomInputs(cfg, 4, 9);
  const labels = [5, 9, 17];

  it("with any B, f equals the base model with W + (α/r)·B·A merged", async () => {
    const lw = loraWithRandomB();
    const a = await createPromptModel(lw, labels, {
      dtype: "float64",
      threads: 1,
      variant: { lora: LORA },
    }).logitsExact(inputs);
    const merged = withTensors(base, mergeLora(lw, LORA));
    const b = await createPromptModel(merged, labels, { dtype: "float64", threads: 1 }).logitsExact(inputs);
    const plain = await createPromptModel(base, labels, { dtype: "float64", threads: 1 }).logitsExact(inputs);
    let moved = 0;
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
      moved = Math.max(moved, Math.abs(a[i] - plain[i]));
    }
    expect(moved).toBeGreaterThan(1e-3); // the adapters do change f
  });

  it("init: A Kaiming-uniform in ±1/√in (seeded), B = 0, so f is the base model's", async () => {
    const t = initLoraTensors(base, LORA, 3);
    expect(t.length).toBe(2 * 2 * cfg.numHiddenLayers);
    for (const x of t) {
      if (x.name.endsWith("lora_B")) expect(x.data.every((v) => v === 0)).toBe(true);
      else {
        expect(Math.max(...x.data.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(H));
        expect(new Set(x.data).size).toBe(x.data.length);
      }
    }
    expect(initLoraTensors(base, LORA, 3)[0].data).toEqual(t[0].data);
    expect(initLoraTensors(base, LORA, 4)[0].data).not.toEqual(t[0].data);
    const lw = withLora(base, LORA, 3);
    const a = await createPromptModel(lw, labels, { threads: 1, variant: { lora: LORA } }).logits(inputs);
    const b = await createPromptModel(base, labels, { threads: 1 }).logits(inputs);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
  });

  it("parameters are the adapters and the MLM head; factors equal float64 finite differences", async () => {
    const lw = loraWithRandomB();
    const variant = { lora: LORA };
    const tm = createTrainableModel(lw, labels, { dtype: "float64", threads: 1, variant });
    const names = [...tm.params.keys()];
    expect(names.every((n) => /lora_[AB]$/.test(n) || n.startsWith("lm_head"))).toBe(true);
    expect(names.filter((n) => /lora_/.test(n)).length).toBe(8);
    const m = createPromptModel(lw, labels, { threads: 1, variant });
    expect(
      m
        .params()
        .map((p) => p.name)
        .sort(),
    ).toEqual([...names].sort());
    const f = await m.gradFactors(inputs);
    const { V, fd } = await fdAlong(tm, inputs, 70);
    inputs.forEach((_, i) => {
      for (let c = 0; c < 3; c++) {
        let a = 0;
        for (const [n, v] of V) a += dot(m.materialize(f[i], n), v, c * v.length);
        expect(Math.abs(a - fd[i * 3 + c]) / Math.abs(fd[i * 3 + c])).toBeLessThan(1e-4);
      }
    });
  });

  it("the kernel equals brute force over materialized adapter and head gradients; at B = 0 A adds nothing", async () => {
    for (const [lw, zeroB] of [
      [withLora(base, LORA, 2), true],
      [loraWithRandomB(), false],
    ] as const) {
      const m = createPromptModel(lw, labels, { threads: 1, variant: { lora: LORA } });
      const tr = await m.gradFactors(inputs.slice(0, 3));
      const ev = await m.gradFactors(inputs.slice(1));
      const res = await computeKernels(
        tr,
        { dev: ev },
        { formulas: ["sgd"], memoryBytes: 2 ** 30, quiet: true, params: m.params() },
      );
      const K = res.kernels.dev.sgd!;
      const C = 3;
      const aName = loraNames("roberta.encoder.layer.0.attention.self.query.weight").A;
      const gA = m.materialize(tr[0], aName);
      if (zeroB) expect(gA.every((v) => v === 0)).toBe(true);
      else expect(gA.some((v) => v !== 0)).toBe(true);
      let scale = 0;
      for (let i = 0; i < tr.length; i++)
        for (let j = 0; j < ev.length; j++)
          for (let c = 0; c < C; c++)
            for (let d = 0; d < C; d++) {
              let want = 0;
              for (const p of m.params()) {
                const gi = m.materialize(tr[i], p.name);
                const gj = m.materialize(ev[j], p.name);
                want += dot(gi.subarray(c * p.size, (c + 1) * p.size), gj.subarray(d * p.size, (d + 1) * p.size));
              }
              const got = K[((i * C + c) * ev.length + j) * C + d];
              scale = Math.max(scale, Math.abs(want));
              expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
            }
      expect(scale).toBeGreaterThan(0);
    }
  });
});
