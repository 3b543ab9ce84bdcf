/**
 * Masked-LM pretraining graphs (RobertaForMaskedLM's objective): the encoder of transformer.ts over packed token
 * sequences, the MLM head at the masked positions only, the full-vocabulary projection z = D·h̃ + b ([M, V]) and the
 * mean cross-entropy against the original tokens (graph/loss.ts). Parameters and dropout masks are graph inputs, as
 * in the fine-tuning graph (prompt-graph.ts), so updated values need no rebuild.
 *
 * Inputs: input_ids, position_ids [batch, seq] (int64), attn_bias [batch, 1, 1, seq], masked_index [masked] (int64,
 * flat indices b·seq + t of the masked positions), mlm_labels [masked] (int64, the original tokens).
 */
import { grad } from "../graph/autodiff.ts";
import { Graph } from "../graph/graph.ts";
import { top1Hits, vocabCrossEntropy } from "../graph/loss.ts";
import { gather, mul, reshape } from "../graph/ops.ts";
import type { Tensor } from "../graph/tensor.ts";
import { modelNames } from "../weights/params.ts";
import type { LoadedWeights } from "../weights/types.ts";
import type { FloatType } from "./prompt-graph.ts";
import { validateWeights } from "./prompt-graph.ts";
import { type Dropout, encode, headTransform, type TokenInputs } from "./transformer.ts";

export interface MlmInputs extends TokenInputs {
  maskedIndex: Tensor;
  labels: Tensor;
}

export interface MlmGraph {
  graph: Graph;
  inputs: MlmInputs;
  paramInputs: Map<string, Tensor>;
  dropoutSites: { site: string; mask: Tensor }[];
  /** Mean cross-entropy over the masked positions. */
  loss: Tensor;
  /** Eval graphs: the number of masked positions whose top-1 prediction is the original token. */
  hits?: Tensor;
  /** Training graphs: dense gradients by parameter (all but the word embeddings). */
  grads: Map<string, Tensor>;
  /** Training graphs: the cotangent of the gathered word-embedding rows [batch, seq, H] (scatter-added outside). */
  wordRows?: Tensor;
  wordEmb: string;
  outputs: Tensor[];
}

/** The MLM forward (and, with `train`, backward) graph of `weights`' architecture. */
export function buildMlmGraph(weights: LoadedWeights, opts: { train: boolean; dtype?: FloatType }): MlmGraph {
  validateWeights(weights);
  const dtype = opts.dtype ?? "float32";
  const cfg = weights.config;
  const names = modelNames(cfg);
  const g = new Graph(dtype);
  const inputs: MlmInputs = {
    inputIds: g.input("input_ids", "int64", ["batch", "seq"]),
    positionIds: g.input("position_ids", "int64", ["batch", "seq"]),
    attnBias: g.input("attn_bias", dtype, ["batch", 1, 1, "seq"]),
    maskedIndex: g.input("masked_index", "int64", ["masked"]),
    labels: g.input("mlm_labels", "int64", ["masked"]),
  };
  const paramInputs = new Map<string, Tensor>();
  const p = (name: string) => {
    let t = paramInputs.get(name);
    if (!t) {
      const ref = weights.tensors.get(name);
      if (!ref) throw new Error(`weights lack parameter ${name}`);
      t = g.input(name, dtype, ref.shape);
      paramInputs.set(name, t);
    }
    return t;
  };
  const dropoutSites: { site: string; mask: Tensor }[] = [];
  const drop: Dropout | undefined = opts.train
    ? (x, site) => {
        const mask = g.input(`dropout.${site}`, dtype, x.shape);
        dropoutSites.push({ site, mask });
        return mul(x, mask);
      }
    : undefined;
  const { h, ctx, taps } = encode(cfg, names, inputs, p, drop);
  const rows = gather(reshape(h, [-1, cfg.hiddenSize]), inputs.maskedIndex); // [M, H]
  const feat = headTransform(ctx, names, rows);
  const { loss, logits } = vocabCrossEntropy(feat, p(names.decoder), p(names.decoderBias), inputs.labels); // [M, V]
  const base = { graph: g, inputs, paramInputs, dropoutSites, loss, wordEmb: names.wordEmb };
  if (!opts.train) {
    const hits = top1Hits(logits, inputs.labels);
    return { ...base, hits, grads: new Map(), outputs: [loss, hits] };
  }
  const dense = [...paramInputs.keys()].filter((n) => n !== names.wordEmb);
  const gs = grad([loss], [g.constant([1], [1])], [...dense.map((n) => paramInputs.get(n)!), taps.wordRows]);
  const grads = new Map(dense.map((n, i) => [n, gs[i]]));
  return { ...base, grads, wordRows: gs[dense.length], outputs: [loss, ...gs] };
}
