/**
 * GEMM/MatMul FLOPs (2 per multiply-add) of the engine's graphs for one batch of B examples padded to T tokens
 * (hidden H, intermediate I, L layers), as the cost models of kernel and fine-tuning jobs count them
 * (src/kernels/cost.ts, src/training/cost.ts). Per layer the forward takes 2BT(4H² + 2HI) for the six linears plus
 * 4BT²H for attention scores and context; each backward pass (one output) 2BT(4H² + 2HI) + 8BT²H (the input
 * cotangents of the six linears; dS, dV, dQ, dK). The MLM head at the mask position: gather 2BTH, dense 2BH², decoder
 * 2BHK over K label words (binary mode adds f = z·Mᵀ, 2BK), the same again per backward.
 */
import { lengthBatches } from "./batch.ts";
import type { PromptInput } from "./types.ts";
import type { ModelConfig } from "./weights/types.ts";

/** FLOPs of the encoder + MLM head forward for a batch of B examples padded to T tokens (header). */
export function forwardFlops(cfg: ModelConfig, B: number, T: number, nLabelWords: number, C: number, binary: boolean) {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const layer = 2 * B * T * (4 * H * H + 2 * H * I) + 4 * B * T * T * H;
  const head = 2 * B * T * H + 2 * B * H * H + 2 * B * H * nLabelWords + (binary ? 2 * B * nLabelWords * C : 0);
  return cfg.numHiddenLayers * layer + head;
}

/** FLOPs of one backward pass (one output) for the same batch: the cotangents of every linear's input. */
export function backwardFlops(cfg: ModelConfig, B: number, T: number, nLabelWords: number, binary: boolean) {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const layer = 2 * B * T * (4 * H * H + 2 * H * I) + 8 * B * T * T * H;
  const head = 2 * B * T * H + 2 * B * H * H + 2 * B * H * nLabelWords + (binary ? 2 * B * nLabelWords : 0);
  return cfg.numHiddenLayers * layer + head;
}

/** The engine's batches (src/model/batch.ts lengthBatches) of examples with these token counts: [size, padded T]. */
export function engineBatches(tokens: readonly number[], maxTokens: number): [number, number][] {
  const fake = tokens.map((T) => ({ inputIds: { length: T } }) as unknown as PromptInput);
  return lengthBatches(fake, Number.POSITIVE_INFINITY, maxTokens).map((b) => [
    b.length,
    Math.max(...b.map((i) => tokens[i])),
  ]);
}
