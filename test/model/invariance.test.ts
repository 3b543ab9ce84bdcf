import { afterAll, describe, expect, it } from "vitest";
import type { ExampleGradFactors } from "../../src/model/grad-factors.ts";
import { createPromptModel, makeBatch } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { randomInputs, tinyConfig, tinyWeights } from "./tiny.ts";

afterAll(releaseSessions);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: results do not depend on batch size, padding or order`, () => {
    const cfg = tinyConfig(arch);
    const w = tinyWeights(cfg, 9, { [`${arch}.pooler.dense.weight`]: [8, 8], [`${arch}.pooler.dense.bias`]: [8] });
    const labels = [7, 3];
    const inputs = randomInputs(cfg, 7, 5, 2, 12);
    const perm = [3, 6, 0, 5, 1, 4, 2];

    it("logits and every gradient row agree across batch sizes 1 / 3 / 8 and a permutation", async () => {
      const runs: { f: Float32Array; g: ExampleGradFactors[]; m: ReturnType<typeof createPromptModel> }[] = [];
      for (const bs of [1, 3, 8]) {
        const m = createPromptModel(w, labels, { batchSize: bs, threads: 1 });
        runs.push({ f: await m.logits(inputs), g: await m.gradFactors(inputs), m });
      }
      const m = runs[0].m;
      const pf = await m.logits(perm.map((i) => inputs[i]));
      const pg = await createPromptModel(w, labels, { batchSize: 3, threads: 1 }).gradFactors(
        perm.map((i) => inputs[i]),
      );
      for (const r of runs.slice(1)) expect(maxDiff(r.f, runs[0].f)).toBeLessThan(1e-5);
      perm.forEach((src, i) => {
        for (let c = 0; c < 2; c++) expect(Math.abs(pf[i * 2 + c] - runs[0].f[src * 2 + c])).toBeLessThan(1e-5);
      });
      for (const p of m.params()) {
        inputs.forEach((x, i) => {
          const ref = m.materialize(runs[0].g[i], p.name);
          for (const r of runs.slice(1)) expect(maxDiff(m.materialize(r.g[i], p.name), ref)).toBeLessThan(1e-5);
          expect(maxDiff(m.materialize(pg[perm.indexOf(i)], p.name), ref)).toBeLessThan(1e-5);
          // Factors are unpadded: T = the example's own token count.
          for (const l of runs[2].g[i].linears) if (l.X.length !== l.dIn) expect(l.T).toBe(x.inputIds.length);
        });
      }
      // Every parameter appears exactly once; unused ones (the pooler) and the key biases are exact zeros.
      const g = runs[0].g[0];
      const listed = [
        ...g.linears.flatMap((l) => [l.weight, ...(l.bias ? [l.bias] : [])]),
        ...g.dense.map((d) => d.param),
        ...g.sparse.map((s) => s.param),
        ...g.zero,
      ].sort();
      expect(listed).toEqual(
        m
          .params()
          .map((p) => p.name)
          .sort(),
      );
      expect(g.zero).toContain(`${arch}.pooler.dense.weight`);
      expect(g.zero).toContain(`${arch}.encoder.layer.1.attention.self.key.bias`);
    });

    it("positions: RoBERTa counts from padding_idx + 1, pads get padding_idx; BERT 0..T−1", () => {
      const b = makeBatch(
        [
          { inputIds: [5, 6, 7], maskPos: 1 },
          { inputIds: [5], maskPos: 0 },
        ],
        cfg,
        "float32",
      );
      const pos = Array.from(b.feeds.position_ids.data as BigInt64Array, Number);
      const pad = cfg.padTokenId;
      if (arch === "roberta") expect(pos).toEqual([pad + 1, pad + 2, pad + 3, pad + 1, pad, pad]);
      else expect(pos).toEqual([0, 1, 2, 0, 1, 2]);
      expect(Array.from(b.feeds.attn_bias.data as Float32Array)).toEqual([0, 0, 0, 0, -1e9, -1e9]);
    });
  });
}

describe("bad input is rejected with a message that names it", () => {
  const cfg = tinyConfig("roberta");
  const w = tinyWeights(cfg, 1);
  it("mask position, token ids, length, label words, missing weights", async () => {
    const m = createPromptModel(w, [3, 4], { threads: 1 });
    await expect(m.logits([{ inputIds: [5, 6], maskPos: 2 }])).rejects.toThrow(/input 0: maskPos 2/);
    await expect(m.logits([{ inputIds: [5, 99], maskPos: 0 }])).rejects.toThrow(/input 0: token 1 has id 99/);
    await expect(m.logits([{ inputIds: new Array(30).fill(5), maskPos: 0 }])).rejects.toThrow(/at most 22/);
    expect(() => createPromptModel(w, [3, 400])).toThrow(/label word id 400/);
    const tensors = new Map(w.tensors);
    tensors.delete("lm_head.decoder.weight");
    await expect(
      createPromptModel({ ...w, tensors, hash: "x" }, [3]).logits([{ inputIds: [5], maskPos: 0 }]),
    ).rejects.toThrow(/lack parameter lm_head.decoder.weight/);
    await expect(
      createPromptModel(w, [3, 4, 5], { binary: true }).logits([{ inputIds: [5], maskPos: 0 }]),
    ).rejects.toThrow(/exactly 2 label words/);
  });
});
