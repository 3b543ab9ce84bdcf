/**
 * Batching of prompt inputs for the engine's graphs: input checks against the model config, padding into one
 * graph call's feeds, and length-sorted batches under a token budget.
 */

import type { FloatType } from "./arch/prompt-graph.ts";
import { ort } from "./runtime/session.ts";
import type { PromptInput } from "./types.ts";
import type { ModelConfig } from "./weights/types.ts";

/** −∞ stand-in for padded keys: exp(−1e9 + O(10)) is exactly 0 in float32 and float64. */
const MASKED = -1e9;

export interface Batch {
  feeds: Record<string, ort.Tensor>;
  T: number;
  lengths: number[];
}

/** Check one input against the config; the message names the example and what was expected. */
export function validateInput(x: PromptInput, i: number, cfg: ModelConfig): void {
  const T = x.inputIds.length;
  const maxLen =
    cfg.modelType === "roberta" ? cfg.maxPositionEmbeddings - cfg.padTokenId - 1 : cfg.maxPositionEmbeddings;
  if (T < 1) throw new Error(`input ${i}: empty inputIds`);
  if (T > maxLen) throw new Error(`input ${i}: ${T} tokens, the model takes at most ${maxLen}`);
  if (!Number.isInteger(x.maskPos) || x.maskPos < 0 || x.maskPos >= T)
    throw new Error(`input ${i}: maskPos ${x.maskPos} is not a token index in [0, ${T})`);
  for (let t = 0; t < T; t++) {
    const id = x.inputIds[t];
    if (!Number.isInteger(id) || id < 0 || id >= cfg.vocabSize)
      throw new Error(`input ${i}: token ${t} has id ${id}, expected an integer in [0, ${cfg.vocabSize})`);
  }
}

/**
 * Pad a batch to its longest example. RoBERTa position ids = padding_idx + 1 + running count of non-pad tokens
 * (pads get padding_idx); BERT's are 0..T−1. Padded keys get a −1e9 attention bias.
 */
export function makeBatch(xs: PromptInput[], cfg: ModelConfig, dtype: FloatType): Batch {
  const B = xs.length;
  const T = Math.max(...xs.map((x) => x.inputIds.length));
  const pad = cfg.padTokenId;
  const ids = new BigInt64Array(B * T).fill(BigInt(pad));
  const pos = new BigInt64Array(B * T);
  const F = dtype === "float64" ? Float64Array : Float32Array;
  const bias = new F(B * T).fill(MASKED);
  const onehot = new F(B * T);
  xs.forEach((x, b) => {
    let count = 0;
    for (let t = 0; t < T; t++) {
      const real = t < x.inputIds.length;
      const id = real ? x.inputIds[t] : pad;
      ids[b * T + t] = BigInt(id);
      if (cfg.modelType === "roberta") {
        const notPad = real && id !== pad;
        if (notPad) count++;
        pos[b * T + t] = BigInt(notPad ? pad + count : pad);
      } else pos[b * T + t] = BigInt(t);
      if (real) bias[b * T + t] = 0;
    }
    onehot[b * T + x.maskPos] = 1;
  });
  return {
    T,
    lengths: xs.map((x) => x.inputIds.length),
    feeds: {
      input_ids: new ort.Tensor("int64", ids, [B, T]),
      position_ids: new ort.Tensor("int64", pos, [B, T]),
      attn_bias: new ort.Tensor(dtype, bias, [B, 1, 1, T]),
      mask_onehot: new ort.Tensor(dtype, onehot, [B, T]),
    },
  };
}

/** Padded tokens per graph run when no batchSize is given (see PromptModelOptions.batchSize). */
export const TOKEN_BUDGET = { logits: 2048, factors: 1024 } as const;

/**
 * Batches of indices, sorted by length so that padding is small: at most `size` examples and at most `maxTokens`
 * padded tokens (examples × longest length) each, a longer single example alone. Results go back in input order.
 */
export function lengthBatches(inputs: PromptInput[], size: number, maxTokens = Infinity): number[][] {
  const len = (i: number) => inputs[i].inputIds.length;
  const order = inputs.map((_, i) => i).sort((a, b) => len(a) - len(b) || a - b);
  const out: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    // Sorted ascending: example i is the longest of the batch it joins.
    if (cur.length > 0 && (cur.length >= size || (cur.length + 1) * len(i) > maxTokens)) {
      out.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
