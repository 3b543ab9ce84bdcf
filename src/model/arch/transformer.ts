/**
 * The RoBERTa/BERT encoder and the prompt MLM head, written as the forward pass of the paper (HF semantics,
 * docs/protocol.md §4). Every intermediate the gradient factors need is returned in `taps`.
 */
import type { Graph } from "../graph/graph.ts";
import { gelu, layerNorm } from "../graph/nn.ts";
import {
  add,
  concat,
  gather,
  linear,
  matmul,
  mul,
  reshape,
  softmax,
  split,
  squeeze,
  sum,
  transpose,
  unsqueeze,
} from "../graph/ops.ts";
import type { Tensor } from "../graph/tensor.ts";
import { CLASSIFIER, loraNames, type ModelVariant } from "../variant.ts";
import type { LayerNames, ModelNames } from "../weights/params.ts";
import type { ModelConfig } from "../weights/types.ts";

/** Looks a parameter up by its HF name (an initializer, or a graph input in training graphs). */
export type Params = (name: string) => Tensor;
/** Dropout as x ⊙ mask (mask ∈ {0, 1/(1−p)} fed from a seeded generator); identity in eval mode. */
export type Dropout = (x: Tensor, site: string) => Tensor;
export const noDropout: Dropout = (x) => x;

export interface LinearTap {
  weight: string;
  /** Absent for LoRA's bias-free adapter products. */
  bias?: string;
  x: Tensor;
  y: Tensor;
  /** This layer's columns [start, end) of `y`'s last axis when it is part of a fused projection (Q, K, V). */
  cols?: [number, number];
}
export interface NormTap {
  weight: string;
  bias: string;
  xhat: Tensor;
  y: Tensor;
}

export interface Taps {
  /** Sum of word, position and token-type embeddings (before LayerNorm), [batch, seq, H]. */
  emb: Tensor;
  linears: LinearTap[];
  norms: NormTap[];
  /** The post-LayerNorm mask feature h̃ that the decoder rows multiply, [batch, H]; no prompt: h_<s>. */
  maskFeature: Tensor;
  /** The encoder's last hidden state at the mask position, [batch, H] (h_<s> for no-prompt inputs). */
  hidden: Tensor;
  /** The gathered word-embedding rows E[input_ids], [batch, seq, H] (its cotangent: sparse embedding rows). */
  wordRows: Tensor;
  /** The gathered decoder rows D[w] of the label words, [C, H] (its cotangent: sparse decoder rows); absent without a prompt. */
  decoderRows?: Tensor;
}

export interface EncoderInputs {
  inputIds: Tensor; // int64 [batch, seq]
  positionIds: Tensor; // int64 [batch, seq]
  /** Additive attention bias, 0 for real keys and −1e9 for padded ones, [batch, 1, 1, seq]. */
  attnBias: Tensor;
  /** One-hot of the mask position, [batch, seq]. */
  maskOneHot: Tensor;
}

/** The inputs the encoder reads (all of EncoderInputs but the mask position). */
export type TokenInputs = Omit<EncoderInputs, "maskOneHot">;

/** What every layer reads: config, batch inputs, parameters, dropout, and where to record taps. */
export interface Ctx {
  cfg: ModelConfig;
  inp: TokenInputs;
  p: Params;
  drop: Dropout;
  taps: Taps;
  variant: ModelVariant;
}

function lin(ctx: Ctx, names: { weight: string; bias: string }, x: Tensor): Tensor {
  const y = linear(x, ctx.p(names.weight), ctx.p(names.bias));
  ctx.taps.linears.push({ ...names, x, y });
  return y;
}

/** LoRA's update (α/r)·B (A x) of a projection (docs/no-prompt-and-lora.md); both products are tapped linears. */
function loraDelta(ctx: Ctx, weight: string, x: Tensor): Tensor {
  const { r, alpha } = ctx.variant.lora!;
  const n = loraNames(weight);
  const u = linear(x, ctx.p(n.A));
  ctx.taps.linears.push({ weight: n.A, x, y: u });
  const v = linear(u, ctx.p(n.B));
  ctx.taps.linears.push({ weight: n.B, x: u, y: v });
  return mul(v, alpha / r);
}

function norm(ctx: Ctx, names: { weight: string; bias: string }, x: Tensor): Tensor {
  const { y, xhat } = layerNorm(x, ctx.p(names.weight), ctx.p(names.bias), ctx.cfg.layerNormEps);
  ctx.taps.norms.push({ ...names, xhat, y });
  return y;
}

/**
 * Q, K and V as one Linear over the stacked weights [3H, H]: one GEMM forward and one backward (the input
 * cotangent Δ_q W_q + Δ_k W_k + Δ_v W_v in a single product), each layer's factors its own columns of the output.
 */
function qkv(ctx: Ctx, l: LayerNames, h: Tensor): Tensor[] {
  const parts = [l.query, l.key, l.value];
  const H = ctx.cfg.hiddenSize;
  const w = concat(
    parts.map((n) => ctx.p(n.weight)),
    0,
  );
  const b = concat(
    parts.map((n) => ctx.p(n.bias)),
    0,
  );
  const y = linear(h, w, b);
  parts.forEach((n, j) => {
    ctx.taps.linears.push({ ...n, x: h, y, cols: [j * H, (j + 1) * H] });
  });
  const out = split(y, -1, [H, H, H]);
  const targets = ctx.variant.lora?.targets ?? [];
  return out.map((t, j) =>
    j !== 1 && targets.includes(j === 0 ? "query" : "value") ? sum(t, loraDelta(ctx, parts[j].weight, h)) : t,
  );
}

/** Multi-head self-attention with padded keys masked: softmax(Q Kᵀ/√d_h + mask) V, then the output dense. */
function selfAttention(ctx: Ctx, l: LayerNames, h: Tensor, i: number): Tensor {
  const nh = ctx.cfg.numAttentionHeads;
  const dh = ctx.cfg.hiddenSize / nh;
  const heads = (t: Tensor) => reshape(t, [0, 0, nh, dh]); // [b, s, nh, dh]
  const [qh, kh, vh] = qkv(ctx, l, h);
  const q = transpose(heads(qh), [0, 2, 1, 3]); // [b, nh, s, dh]
  const kT = transpose(heads(kh), [0, 2, 3, 1]); // [b, nh, dh, s]
  const v = transpose(heads(vh), [0, 2, 1, 3]);
  const scores = add(matmul(mul(q, 1 / Math.sqrt(dh)), kT), ctx.inp.attnBias);
  const probs = ctx.drop(softmax(scores), `layer${i}.attn_probs`);
  const attended = reshape(transpose(matmul(probs, v), [0, 2, 1, 3]), [0, 0, ctx.cfg.hiddenSize]);
  return ctx.drop(lin(ctx, l.attnOut, attended), `layer${i}.attn_out`);
}

/**
 * One post-LN transformer layer: h₁ = LN(h + Attn(h)); h₂ = LN(h₁ + W₂ gelu(W₁ h₁)). Residuals are `sum`, not
 * `add`: see ops.ts on ORT's slow SkipLayerNormalization.
 */
function layer(ctx: Ctx, l: LayerNames, h: Tensor, i: number): Tensor {
  const h1 = norm(ctx, l.attnNorm, sum(selfAttention(ctx, l, h, i), h));
  const ffn = lin(ctx, l.out, gelu(lin(ctx, l.inter, h1)));
  return norm(ctx, l.outNorm, sum(ctx.drop(ffn, `layer${i}.ffn_out`), h1));
}

/**
 * The encoder: embeddings (word + position + type row 0, LayerNorm, dropout) and the transformer layers; the last
 * hidden states [batch, seq, H].
 */
export function encode(
  cfg: ModelConfig,
  names: ModelNames,
  inp: TokenInputs,
  p: Params,
  drop: Dropout = noDropout,
  variant: ModelVariant = {},
): { h: Tensor; ctx: Ctx; taps: Taps } {
  const taps = { linears: [], norms: [] } as unknown as Taps;
  const ctx: Ctx = { cfg, inp, p, drop, taps, variant };
  // Token-type ids are all 0 (not passed by the reference): add row 0 of the type table.
  const typeTable = p(names.typeEmb);
  const typeRow = gather(typeTable, (typeTable.graph as Graph).scalar(0, "int64"));
  taps.wordRows = gather(p(names.wordEmb), inp.inputIds);
  const emb = add(add(taps.wordRows, gather(p(names.posEmb), inp.positionIds)), typeRow);
  taps.emb = emb;
  let h = drop(norm(ctx, names.embNorm, emb), "embeddings");
  names.layers.forEach((l, i) => {
    h = layer(ctx, l, h, i);
  });
  return { h, ctx, taps };
}

/** The MLM head's transform LN(gelu(W_d x + b_d)) of hidden states x [..., H] (docs/protocol.md §4). */
export function headTransform(ctx: Ctx, names: ModelNames, x: Tensor): Tensor {
  return norm(ctx, names.headNorm, gelu(lin(ctx, names.headDense, x)));
}

/**
 * Label-word logits at the mask: z = D[w] · LN(gelu(W_d h_mask + b_d)) + bias[w] for the C label words w, only
 * the C decoder rows being computed ([batch, C]). No prompt (`variant.noPrompt`): z = classifier(h_<s>), the
 * input's mask position being 0 (`encodeNoPrompt`), so h_mask is h_<s>.
 */
export function promptLogits(
  cfg: ModelConfig,
  names: ModelNames,
  inp: EncoderInputs,
  p: Params,
  labelIds: Tensor,
  drop: Dropout = noDropout,
  variant: ModelVariant = {},
): { logits: Tensor; taps: Taps } {
  const { h, ctx, taps } = encode(cfg, names, inp, p, drop, variant);
  const hMask = squeeze(matmul(unsqueeze(inp.maskOneHot, 1), h), 1); // [b, H]: the hidden state at <mask>
  taps.hidden = hMask;
  if (variant.noPrompt) {
    taps.maskFeature = hMask;
    return { logits: lin(ctx, CLASSIFIER, hMask), taps };
  }
  taps.maskFeature = headTransform(ctx, names, hMask);
  taps.decoderRows = gather(p(names.decoder), labelIds);
  const logits = linear(taps.maskFeature, taps.decoderRows, gather(p(names.decoderBias), labelIds));
  return { logits, taps };
}
