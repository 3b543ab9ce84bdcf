/**
 * The three graphs of a prompt model, all from the same forward pass (transformer.ts):
 * - "logits": f(x) for a padded batch ([batch, C]; binary: [batch, 1] = z[w₁] − z[w₀]);
 * - "factors": f(x) plus, from ONE backward pass with C stacked one-hot seeds, everything the factored
 *   gradients of docs/kernels.md §3 need (linear inputs X and output cotangents Δ, LayerNorm γ/β gradients, the
 *   embedding-sum cotangent, the mask feature);
 * - "train": mean cross-entropy over the C label-word logits with dropout masks and parameters as inputs,
 *   returning the loss and the dense gradient of every parameter.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { grad } from "../graph/autodiff.ts";
import { Graph } from "../graph/graph.ts";
import { exp, log, matmul, mul, neg, reduceMaxConst, reduceMean, reduceSum, sub } from "../graph/ops.ts";
import type { DType, Tensor } from "../graph/tensor.ts";
import { classifierRows, isTrainable, type ModelVariant, variantParamSpecs } from "../variant.ts";
import { modelNames } from "../weights/params.ts";
import type { LoadedWeights, TensorRef } from "../weights/types.ts";
import { type Dropout, type EncoderInputs, noDropout, type Params, promptLogits } from "./transformer.ts";

export type FloatType = "float32" | "float64";

export interface PromptGraphSpec {
  weights: LoadedWeights;
  labelWordIds: number[];
  binary: boolean;
  dtype: FloatType;
  /** No-prompt classifier and/or LoRA adapters (src/model/variant.ts); default: the prompt MLM. */
  variant?: ModelVariant;
}

export interface BuiltGraph {
  graph: Graph;
  inputs: EncoderInputs;
  outputs: Tensor[];
  externalFiles: string[];
}

/** Where each gradient factor is found among the outputs of the "factors" graph. */
export interface FactorLayout {
  f: Tensor;
  /** Cotangent of the embedding sum, [C, batch, seq, H] (word/position/type embedding rows); absent when frozen. */
  embDelta?: Tensor;
  /** `cols`: the layer's columns of `delta`'s last axis when it shares a fused projection (Q, K, V). */
  linears: { weight: string; bias?: string; x: Tensor; delta: Tensor; cols?: [number, number] }[];
  norms: { weight: string; bias: string; dGamma: Tensor; dBeta: Tensor }[];
  /** h̃ [batch, H]: ∂z_w/∂D[w] (decoder rows). */
  maskFeature: Tensor;
  /** ∂f_c/∂z_{w_k} as a [C, K] matrix over the label words (identity, or [−1, 1] in binary mode). */
  outJacobian: number[][];
  /** Parameters with an exactly zero gradient. */
  zero: string[];
}

/** Every parameter f uses in this spec's variant, with its shape. */
export function usedParamSpecs(weights: LoadedWeights, variant: ModelVariant = {}) {
  return variantParamSpecs(weights.config, variant, classifierRows(weights));
}

/** Check that the weights hold every parameter f uses with the shape the config implies. */
export function validateWeights(weights: LoadedWeights, variant: ModelVariant = {}): void {
  if (variant.noPrompt && classifierRows(weights) === undefined)
    throw new Error("no-prompt mode: the weights have no classifier.weight (initialize it with the linear probe)");
  for (const { name, shape } of usedParamSpecs(weights, variant)) {
    const t = weights.tensors.get(name);
    if (!t) throw new Error(`weights lack parameter ${name} (shape [${shape.join(", ")}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new Error(`parameter ${name} has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
  }
}

/** A tensor's values in memory (read from its file when it is referenced in place). */
export function readTensor(ref: TensorRef): Float32Array {
  if (ref.data) return ref.data;
  if (!ref.external) throw new Error(`parameter ${ref.name} has neither data nor an external location`);
  const { path, offset, length } = ref.external;
  const buf = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return new Float32Array(buf.buffer, buf.byteOffset, length / 4);
}

/** Parameters as initializers: in memory, or in place in their file (float32); widened for float64 graphs. */
export function initializerParams(g: Graph, weights: LoadedWeights, dtype: FloatType, files: Set<string>): Params {
  const cache = new Map<string, Tensor>();
  return (name) => {
    const hit = cache.get(name);
    if (hit) return hit;
    const ref = weights.tensors.get(name);
    if (!ref) throw new Error(`weights lack parameter ${name}`);
    let t: Tensor;
    if (dtype === "float64") {
      const data = readTensor(ref);
      t = g.initializer(name, "float64", ref.shape, { data: Float64Array.from(data) });
    } else if (ref.data) {
      t = g.initializer(name, "float32", ref.shape, { data: ref.data });
    } else if (ref.external) {
      files.add(ref.external.path);
      t = g.initializer(name, "float32", ref.shape, { external: ref.external });
    } else throw new Error(`parameter ${name} has neither data nor an external location`);
    cache.set(name, t);
    return t;
  };
}

function encoderInputs(g: Graph, dtype: DType): EncoderInputs {
  return {
    inputIds: g.input("input_ids", "int64", ["batch", "seq"]),
    positionIds: g.input("position_ids", "int64", ["batch", "seq"]),
    attnBias: g.input("attn_bias", dtype, ["batch", 1, 1, "seq"]),
    maskOneHot: g.input("mask_onehot", dtype, ["batch", "seq"]),
  };
}

/** f = logits (multi-class) or z[w₁] − z[w₀] (binary); returns f and ∂f/∂z as a matrix. */
export function outputs(g: Graph, logits: Tensor, spec: PromptGraphSpec): { f: Tensor; J: number[][] } {
  const K = logits.shape[1] as number;
  if (!spec.binary)
    return { f: logits, J: Array.from({ length: K }, (_, c) => Array.from({ length: K }, (_, k) => +(c === k))) };
  if (K !== 2) throw new Error(`binary mode needs exactly 2 label words (classes), got ${K}`);
  return { f: matmul(logits, g.constant([-1, 1], [2, 1])), J: [[-1, 1]] };
}

/** The prompt model's forward pass in a new graph; `p` looks the parameters up (initializers or graph inputs). */
export function forward(
  spec: PromptGraphSpec,
  params: (g: Graph, files: Set<string>) => Params,
  drop?: (g: Graph) => Dropout,
) {
  const g = new Graph(spec.dtype);
  const files = new Set<string>();
  const inputs = encoderInputs(g, spec.dtype);
  const p = params(g, files);
  const variant = spec.variant ?? {};
  const ids = variant.noPrompt ? [0] : spec.labelWordIds; // no prompt: no label words (unused constant)
  const labelIds = g.constant(ids, [ids.length], "int64");
  const names = modelNames(spec.weights.config);
  const { logits, taps } = promptLogits(
    spec.weights.config,
    names,
    inputs,
    p,
    labelIds,
    drop ? drop(g) : noDropout,
    variant,
  );
  return { g, files, inputs, logits, taps, names, p };
}

export function buildLogitsGraph(spec: PromptGraphSpec): BuiltGraph {
  validateWeights(spec.weights, spec.variant);
  const { g, files, inputs, logits } = forward(spec, (g, files) =>
    initializerParams(g, spec.weights, spec.dtype, files),
  );
  const { f } = outputs(g, logits, spec);
  return { graph: g, inputs, outputs: [f], externalFiles: [...files] };
}

/**
 * The linear probe's features (docs/protocol.md §7.3) for a padded batch, [batch, H]: "head" = the mask feature h̃
 * that the decoder multiplies (prompt mode), "hidden" = the last hidden state at the mask position (h_<s> for
 * no-prompt inputs, whose mask position is 0). The head is built with the prompt MLM, so no classifier is needed.
 */
export function buildFeaturesGraph(spec: PromptGraphSpec, which: "head" | "hidden"): BuiltGraph {
  const prompt = {
    ...spec,
    variant: { lora: spec.variant?.lora },
    labelWordIds: which === "hidden" ? [0] : spec.labelWordIds,
  };
  validateWeights(prompt.weights, prompt.variant);
  const { g, files, inputs, taps } = forward(prompt, (g, files) =>
    initializerParams(g, spec.weights, spec.dtype, files),
  );
  return { graph: g, inputs, outputs: [which === "head" ? taps.maskFeature : taps.hidden], externalFiles: [...files] };
}

export function buildFactorsGraph(spec: PromptGraphSpec): BuiltGraph & { layout: FactorLayout; seed: Tensor } {
  validateWeights(spec.weights, spec.variant);
  const { g, files, inputs, logits, taps, names } = forward(spec, (g, files) =>
    initializerParams(g, spec.weights, spec.dtype, files),
  );
  const { f, J } = outputs(g, logits, spec);
  const C = J.length;
  // One-hot seeds e_c for every example: [C, batch, C] → the C Jacobian rows in one backward pass.
  const seed = g.input("seed", spec.dtype, [C, "batch", C]);
  // Only what is trained in this variant (LoRA: adapters and heads) gets factors; frozen weights are constants.
  const variant = spec.variant ?? {};
  const trained = (n: string) => isTrainable(n, variant);
  const linTaps = taps.linears.filter((l) => trained(l.weight));
  const normTaps = taps.norms.filter((n) => trained(n.weight));
  const embTrained = trained(names.wordEmb);
  const wrt = [...(embTrained ? [taps.emb] : []), ...linTaps.map((l) => l.y), ...normTaps.map((n) => n.y)];
  const cots = grad([f], [seed], wrt);
  const embDelta = embTrained ? cots[0] : undefined;
  const rest = embTrained ? cots.slice(1) : cots;
  const linDeltas = rest.slice(0, linTaps.length);
  const normDeltas = rest.slice(linTaps.length);
  // The key bias shifts every score of a query row by the same amount; softmax is invariant to that, so its
  // gradient is exactly zero (computed values would be rounding noise): report it as zero, not as a factor.
  const keyBiases = new Set(names.layers.map((l) => l.key.bias));
  const linears = linTaps.map((l, i) => ({
    weight: l.weight,
    bias: l.bias === undefined || keyBiases.has(l.bias) ? undefined : l.bias,
    x: l.x,
    delta: linDeltas[i],
    ...(l.cols ? { cols: l.cols } : {}),
  }));
  const norms = normTaps.map((n, i) => {
    const d = normDeltas[i]; // [C, batch, (seq,) H]
    const tokenAxes = Array.from({ length: d.shape.length - 3 }, (_, j) => j + 2);
    // ∂f/∂γ = Σ_t δ_t ⊙ x̂_t, ∂f/∂β = Σ_t δ_t (docs/kernels.md §3)
    const dGamma = tokenAxes.length ? reduceSum(mul(d, n.xhat), tokenAxes, false) : mul(d, n.xhat);
    const dBeta = tokenAxes.length ? reduceSum(d, tokenAxes, false) : d;
    return { weight: n.weight, bias: n.bias, dGamma, dBeta };
  });
  const used = new Set(usedParamSpecs(spec.weights, variant).map((s) => s.name));
  const zero = [
    ...[...keyBiases].filter(trained),
    ...[...spec.weights.tensors.keys()].filter((n) => !used.has(n) && trained(n)),
  ];
  const layout: FactorLayout = { f, embDelta, linears, norms, maskFeature: taps.maskFeature, outJacobian: J, zero };
  const outs = dedupe([
    f,
    ...(embDelta ? [embDelta] : []),
    taps.maskFeature,
    ...linears.flatMap((l) => [l.x, l.delta]),
    ...norms.flatMap((n) => [n.dGamma, n.dBeta]),
  ]);
  return { graph: g, inputs, outputs: outs, externalFiles: [...files], layout, seed };
}

function dedupe(ts: Tensor[]): Tensor[] {
  const seen = new Set<string>();
  return ts.filter((t) => !seen.has(t.name) && seen.add(t.name));
}

/** A forward pass with the parameters as graph inputs (fed each run from live arrays) and optional dropout. */
export interface ParamInputGraph extends BuiltGraph {
  paramInputs: Map<string, Tensor>;
  /** Dropout sites of the encoder, in order, with the shape of their masks. */
  dropoutSites: { site: string; mask: Tensor }[];
}

/** Training graph: loss, logits, then the gradients (dense ones in `grads` order, then the sparse row cotangents). */
export interface TrainGraph extends ParamInputGraph {
  labels: Tensor;
  loss: Tensor;
  /** Dense gradients by parameter name (every parameter but the word embeddings and the decoder). */
  grads: Map<string, Tensor>;
  /**
   * Sparse ones: the cotangent of the gathered rows, scatter-added into the touched rows outside the graph
   * (a dense [V, H] gradient would be a 38.6M-float scatter, transpose and copy-out per step at roberta size).
   * `ids`: "input_ids" (word embeddings, [batch, seq, H]) or "labels" (decoder rows of the label words, [K, H]).
   */
  sparse: { param: string; rows: Tensor; ids: "input_ids" | "label_words" }[];
}

function paramInputForward(spec: PromptGraphSpec, dropout: boolean) {
  validateWeights(spec.weights, spec.variant);
  const paramInputs = new Map<string, Tensor>();
  const dropoutSites: { site: string; mask: Tensor }[] = [];
  let frozenParams: Params | undefined;
  const variant = spec.variant ?? {};
  const fw = forward(
    spec,
    (g, files) => (name) => {
      // Frozen in this variant (LoRA's base weights): a constant, in place in its file.
      if (!isTrainable(name, variant)) return frozen(g, files)(name);
      let t = paramInputs.get(name);
      if (!t) {
        const ref = spec.weights.tensors.get(name);
        if (!ref) throw new Error(`weights lack parameter ${name}`);
        t = g.input(name, spec.dtype, ref.shape);
        paramInputs.set(name, t);
      }
      return t;
    },
    dropout
      ? (g) => (x, site) => {
          const mask = g.input(`dropout.${site}`, spec.dtype, x.shape);
          dropoutSites.push({ site, mask });
          return mul(x, mask);
        }
      : undefined,
  );
  return { ...fw, paramInputs, dropoutSites };
  function frozen(g: Graph, files: Set<string>) {
    frozenParams ??= initializerParams(g, spec.weights, spec.dtype, files);
    return frozenParams;
  }
}

/** Eval-mode label-word logits [batch, K] with parameters as inputs: the forward only, no backward nodes. */
export function buildEvalGraph(spec: PromptGraphSpec): ParamInputGraph {
  const { g, files, inputs, logits, paramInputs, dropoutSites } = paramInputForward(spec, false);
  return { graph: g, inputs, outputs: [logits], externalFiles: [...files], paramInputs, dropoutSites };
}

/**
 * Mean cross-entropy over the label-word logits [batch, K] against one-hot labels. log-softmax = z − m −
 * log Σ exp(z − m); the max m is a constant shift (no gradient needed: the expression does not depend on it).
 */
export function meanCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const m = reduceMaxConst(logits, [-1]);
  const zs = sub(logits, m);
  const logp = sub(zs, log(reduceSum(exp(zs), [-1], true)));
  return neg(reduceMean(reduceSum(mul(labels, logp), [-1], false), [0], false));
}

export function buildTrainGraph(spec: PromptGraphSpec, opts: { dropout: boolean }): TrainGraph {
  const {
    g,
    files,
    inputs,
    logits,
    taps,
    names: mn,
    paramInputs,
    dropoutSites,
  } = paramInputForward(spec, opts.dropout);
  const K = logits.shape[1] as number;
  const labels = g.input("labels", spec.dtype, ["batch", K]);
  const loss = meanCrossEntropy(logits, labels);
  const sparseOf = new Map<string, { rows: Tensor; ids: "input_ids" | "label_words" }>();
  if (paramInputs.has(mn.wordEmb)) sparseOf.set(mn.wordEmb, { rows: taps.wordRows, ids: "input_ids" });
  if (taps.decoderRows && paramInputs.has(mn.decoder))
    sparseOf.set(mn.decoder, { rows: taps.decoderRows, ids: "label_words" });
  const names = [...paramInputs.keys()].filter((n) => !sparseOf.has(n));
  const sparseNames = [...sparseOf.keys()];
  const seed = g.constant([1], [1]);
  const gs = grad(
    [loss],
    [seed],
    [...names.map((n) => paramInputs.get(n)!), ...sparseNames.map((n) => sparseOf.get(n)!.rows)],
  );
  const grads = new Map(names.map((n, i) => [n, gs[i]]));
  const sparse = sparseNames.map((param, j) => ({ param, rows: gs[names.length + j], ids: sparseOf.get(param)!.ids }));
  return {
    graph: g,
    inputs,
    outputs: [loss, logits, ...gs],
    externalFiles: [...files],
    paramInputs,
    labels,
    dropoutSites,
    loss,
    grads,
    sparse,
  };
}
