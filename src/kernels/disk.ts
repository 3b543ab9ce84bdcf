/**
 * Disk use of a kernel job's caches, predicted before anything is written (README "Disk use"):
 *
 * Gradient factors of one example with T tokens, C outputs and n label words, for a RoBERTa/BERT MLM with L layers,
 * hidden size H and intermediate size I (float32/int32 elements, 4 bytes each; docs/kernels.md §3):
 *   per layer   inputs X  T·(3H + I)     (q/k/v share one input; attention output, intermediate, output)
 *               cotangents C·T·(5H + I)  (q, k, v, attention output, output: H each; intermediate: I)
 *               LayerNorm  4·C·H
 *   embeddings  word rows T·(1 + C·H) (an upper bound: distinct tokens only), positions T·(1 + C·H),
 *               token types 1 + C·H, LayerNorm 2·C·H
 *   MLM head    dense (mask position only) H + C·H, LayerNorm 2·C·H, decoder rows n·(1 + C·H), bias n·(1 + C)
 * plus a container overhead per file of FACTOR_FILE_OVERHEAD bytes (header JSON naming every tensor, padding,
 * checksum) per layer and once more for the rest. Kernel blocks are float64: 8·P·(C·n_train)·(C·n_eval) per eval
 * split, P the number of formula pairs (sgd 1, signgd 1, asymmetric_signgd 2).
 */
import type { ModelConfig } from "../model/weights/types.ts";

/** Bytes of container header per layer (and once for embeddings + head): tensor names, shapes, padding. */
export const FACTOR_FILE_OVERHEAD = 2200;

/** Predicted bytes of one example's cached gradient factors (an upper bound for the token rows). */
export function predictExampleFactorBytes(cfg: ModelConfig, T: number, C: number, nLabelWords: number): number {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const layer = T * (3 * H + I) + C * T * (5 * H + I) + 4 * C * H;
  const embeddings = 2 * T * (1 + C * H) + (cfg.typeVocabSize > 0 ? 1 + C * H : 0) + 2 * C * H;
  const head = H + C * H + 2 * C * H + nLabelWords * (1 + C * H) + nLabelWords * (1 + C);
  return 4 * (cfg.numHiddenLayers * layer + embeddings + head) + FACTOR_FILE_OVERHEAD * (cfg.numHiddenLayers + 1);
}

/** Predicted bytes of the cached gradient factors of examples with these token counts. */
export function predictFactorBytes(cfg: ModelConfig, tokens: readonly number[], C: number, nLabelWords: number) {
  return tokens.reduce((a, T) => a + predictExampleFactorBytes(cfg, T, C, nLabelWords), 0);
}

/** Predicted bytes of the kernel blocks of train × each eval split (float64, one array per formula pair). */
export function predictKernelBlockBytes(C: number, nPairs: number, nTrain: number, nEval: readonly number[]): number {
  return nEval.reduce((a, n) => a + 8 * nPairs * C * nTrain * C * n, 0);
}

/** "1.2 GiB" (binary units, as parseBytes reads "1.2GB"). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
