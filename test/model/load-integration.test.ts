/**
 * Checkpoints on disk → loadModel → createPromptModel, against the independent tfjs forward and autodiff:
 * (a) `model init` output (tiny RoBERTa and BERT, weights referenced in place as ONNX external data);
 * (b) a safetensors file written byte by byte in this test that lacks the decoder weight, so the loader's
 *     fallback (an untied copy of the word embeddings, docs/protocol.md §4) is what runs.
 */
import { afterAll, describe, expect, it } from "vitest";
import { initModel } from "../../src/model/init/init.ts";
import { loadModel } from "../../src/model/load.ts";
import { createPromptModel } from "../../src/model/prompt-model.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import type { PromptInput } from "../../src/model/types.ts";
import type { LoadedWeights, ModelConfig, TensorRef } from "../../src/model/weights/types.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { expectGradsMatchTf, logitsErrorVsTf } from "./compare-tf.ts";
import { rand } from "./graph/harness.ts";
import { randomInputs } from "./tiny.ts";
import {
  f32Bytes,
  removeTmpDirs,
  tinyConfigJson,
  tinyParamShapes,
  tmpDir,
  writeTinyModelDir,
} from "./weights/helpers.ts";

afterAll(async () => {
  await releaseSessions();
  removeTmpDirs();
});

const SENTENCES = ["a gripping , funny film", "dull", "the plot never quite comes together , but the cast is fine"];

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: model init → loadModel → prompt model`, async () => {
    const dir = tmpDir(`entk-int-${arch}-`);
    await initModel({ arch, preset: "tiny", seed: 13, out: dir });
    const w = await loadModel(dir);
    const tok = await loadTokenizer(dir);
    const word = (s: string) => {
      const ids = tok.encode(arch === "roberta" ? ` ${s}` : s);
      expect(ids).toHaveLength(1);
      return ids[0];
    };
    const labels = [word("terrible"), word("great")];
    // "<s> sentence It was <mask> . </s>" (template of SST-2, docs/protocol.md §2), prompts of different lengths.
    const inputs: PromptInput[] = SENTENCES.map((s) => {
      const ids = [tok.clsId, ...tok.encode(`${s} It was`), tok.maskId];
      const maskPos = ids.length - 1;
      return { inputIds: [...ids, ...tok.encode(" ."), tok.sepId], maskPos };
    });

    it("the weights are referenced in place in model.safetensors", () => {
      expect([...w.tensors.values()].every((t) => t.external && !t.data)).toBe(true);
    });

    it("logits equal the tfjs forward within 1e-5 (multi-class and binary)", async () => {
      const m = createPromptModel(w, labels, { threads: 1 });
      expect(await logitsErrorVsTf(m, w, inputs, labels, false)).toBeLessThan(1e-5);
      const b = createPromptModel(w, labels, { threads: 1, binary: true });
      expect(await logitsErrorVsTf(b, w, inputs, labels, true)).toBeLessThan(1e-5);
    });

    it("every parameter's gradient rows equal tfjs autodiff (≤ 1e-4 relative)", async () => {
      const m = createPromptModel(w, labels, { threads: 1, batchSize: 2 });
      await expectGradsMatchTf(m, w, inputs.slice(0, 2), labels, false);
    });
  });
}

/** The tiny config of helpers.ts (H=4, 1 layer, 2 heads, FFN 8, vocab 10, 8 positions) as entk reads it. */
function handConfig(arch: "roberta" | "bert"): ModelConfig {
  const j = tinyConfigJson(arch);
  return {
    modelType: arch,
    vocabSize: j.vocab_size,
    hiddenSize: j.hidden_size,
    numHiddenLayers: j.num_hidden_layers,
    numAttentionHeads: j.num_attention_heads,
    intermediateSize: j.intermediate_size,
    maxPositionEmbeddings: j.max_position_embeddings,
    typeVocabSize: j.type_vocab_size,
    layerNormEps: j.layer_norm_eps,
    padTokenId: j.pad_token_id,
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
  };
}

for (const arch of ["roberta", "bert"] as const) {
  describe(`${arch}: a hand-made safetensors file without the decoder weight`, async () => {
    const decoder = arch === "roberta" ? "lm_head.decoder.weight" : "cls.predictions.decoder.weight";
    const wordEmb = `${arch}.embeddings.word_embeddings.weight`;
    // Values written by this test (names and shapes spelled out in helpers.ts, not taken from src/).
    const values = new Map<string, { shape: number[]; data: Float32Array }>();
    tinyParamShapes(arch).forEach(([name, shape], k) => {
      const r = rand(
        shape.reduce((a, b) => a * b, 1),
        100 + k,
        0.5,
      );
      const data = Float32Array.from(r, (v) => (/(LayerNorm|layer_norm)\.weight$/.test(name) ? 1 + v : v));
      values.set(name, { shape, data });
    });
    const stored = [...values].filter(([name]) => name !== decoder);
    const dir = tmpDir(`entk-hand-${arch}-`);
    writeTinyModelDir(
      dir,
      tinyConfigJson(arch),
      stored.map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, bytes: f32Bytes(t.data) })),
    );
    // The oracle's weights: in memory, with the decoder set to the word embeddings by hand (docs/protocol.md §4).
    const tensors = new Map<string, TensorRef>();
    for (const [name, t] of values)
      tensors.set(name, { name, shape: t.shape, data: name === decoder ? values.get(wordEmb)!.data : t.data });
    const oracle: LoadedWeights = { config: handConfig(arch), tensors, hash: "hand", source: { dir: "(memory)" } };
    const cfg = oracle.config;
    const labels = [3, 7];
    const inputs = randomInputs(cfg, 3, 5, 2, 6);

    it("loads with the decoder fallback and gives the oracle's logits and gradients", async () => {
      const w = await loadModel(dir);
      expect(w.config).toEqual(cfg);
      expect(w.notes.join("\n")).toMatch(/initialized from the word embeddings/);
      expect(w.tensors.get(decoder)!.shape).toEqual([10, 4]);
      const m = createPromptModel(w, labels, { threads: 1 });
      expect(await logitsErrorVsTf(m, oracle, inputs, labels, false)).toBeLessThan(1e-5);
      await expectGradsMatchTf(m, oracle, inputs, labels, false);
    });

    it("the decoder is its own parameter: its gradient differs from the word embeddings' gradient", async () => {
      const w = await loadModel(dir);
      const m = createPromptModel(w, labels, { threads: 1 });
      const [f] = await m.gradFactors(inputs.slice(0, 1));
      const dDec = m.materialize(f, decoder);
      const dEmb = m.materialize(f, wordEmb);
      let diff = 0;
      for (let i = 0; i < dDec.length; i++) diff = Math.max(diff, Math.abs(dDec[i] - dEmb[i]));
      expect(diff).toBeGreaterThan(1e-3);
    });
  });
}
