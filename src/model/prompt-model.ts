/**
 * The prompt-based masked LM as entk's kernels and trainers see it: f(x) = the label-word logits at <mask>
 * (docs/protocol.md §4; binary mode f = z[w₁] − z[w₀]), its per-example gradients in factored form, and dense rows.
 * Eval mode (no dropout). Inputs are batched internally (sorted by length, padded; results in input order).
 */

import {
  type BuiltGraph,
  buildEvalGraph,
  buildFactorsGraph,
  buildLogitsGraph,
  buildTrainGraph,
  type FactorLayout,
  type FloatType,
  type ParamInputGraph,
  readTensor,
  type TrainGraph,
  usedParamSpecs,
  validateWeights,
} from "./arch/prompt-graph.ts";
import type { ExampleGradFactors, LinearFactor, ParamInfo, SparseRowsGrad } from "./grad-factors.ts";
import { materializeGrad } from "./gradients.ts";
import type { Tensor } from "./graph/tensor.ts";
import type { Device } from "./runtime/providers.ts";
import { getSession, ort } from "./runtime/session.ts";
import type { PromptInput } from "./types.ts";
import { classifierRows, isTrainable, type ModelVariant, variantTag } from "./variant.ts";
import { modelNames } from "./weights/params.ts";
import type { LoadedWeights, ModelConfig } from "./weights/types.ts";

export interface PromptModelOptions {
  /** f = z[w₁] − z[w₀] (C = 1); needs exactly two label words. */
  binary?: boolean;
  device?: Device;
  threads?: number;
  /** Idle ORT threads spin-wait (see RuntimeOptions.spinning; default false). */
  spinning?: boolean;
  /**
   * Most examples per graph run. Default: as many as fit a budget of padded tokens per run — 2048 for logits,
   * 1024 for gradient factors (32 examples of 32 tokens; larger GEMMs run faster, while the factors' outputs
   * grow with the batch's tokens, so long prompts get smaller batches).
   */
  batchSize?: number;
  /** float64 graphs for gradient checks (default float32). */
  dtype?: FloatType;
  /** No-prompt classifier and/or LoRA adapters (src/model/variant.ts); `labelWordIds` is ignored without a prompt. */
  variant?: ModelVariant;
}

export interface PromptModel {
  /** Number of outputs C (label words; 1 in binary mode). */
  readonly C: number;
  /** f for every input, [n, C] row-major. */
  logits(inputs: PromptInput[]): Promise<Float32Array>;
  /** f at the graph's precision (float64 graphs keep their precision). */
  logitsExact(inputs: PromptInput[]): Promise<Float64Array>;
  /** Per-example factored gradients of the C outputs (one backward pass per batch). */
  gradFactors(inputs: PromptInput[]): Promise<ExampleGradFactors[]>;
  params(): ParamInfo[];
  /** Dense gradient rows of one tensor, [C, size]. */
  materialize(f: ExampleGradFactors, param: string): Float32Array;
}

/** −∞ stand-in for padded keys: exp(−1e9 + O(10)) is exactly 0 in float32 and float64. */
const MASKED = -1e9;

export interface Batch {
  feeds: Record<string, ort.Tensor>;
  T: number;
  lengths: number[];
}

/** Check one input against the config; the message names the example and what was expected. */
function validateInput(x: PromptInput, i: number, cfg: ModelConfig): void {
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

type Arr = Float32Array | Float64Array;

/**
 * Example b's unpadded token rows of a [lead..., B, Tp, d] output (lead = C for cotangents); `cols` keeps only
 * columns [start, end) of the last axis. Contiguous rows come back as a view sharing the output's buffer.
 */
function tokenRows(
  a: Arr,
  lead: number,
  B: number,
  Tp: number,
  d: number,
  b: number,
  T: number,
  cols: [number, number] = [0, d],
): Float32Array {
  const [c0, c1] = cols;
  const w = c1 - c0;
  // One contiguous block (inputs X, or C = 1): a view into the run's output, no copy.
  if (lead === 1 && w === d && a instanceof Float32Array) return a.subarray(b * Tp * d, (b * Tp + T) * d);
  const out = new Float32Array(lead * T * w);
  for (let c = 0; c < lead; c++) {
    const src = (c * B + b) * Tp * d;
    if (w === d) out.set(a.subarray(src, src + T * d), c * T * d);
    else for (let t = 0; t < T; t++) out.set(a.subarray(src + t * d + c0, src + t * d + c1), (c * T + t) * w);
  }
  return out;
}

/** Number of classes K: the label words, or without a prompt the classifier's rows (label words ignored). */
export function checkOutputs(weights: LoadedWeights, labelWordIds: number[], variant: ModelVariant): number {
  if (variant.noPrompt) {
    const K = classifierRows(weights);
    if (!K) throw new Error("no-prompt mode: the weights have no classifier.weight (initialize it with the linear probe)");
    return K;
  }
  if (labelWordIds.length < 1) throw new Error("at least one label word is needed");
  for (const w of labelWordIds)
    if (!Number.isInteger(w) || w < 0 || w >= weights.config.vocabSize)
      throw new Error(`label word id ${w} is not an integer in [0, ${weights.config.vocabSize})`);
  return labelWordIds.length;
}

export function createPromptModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts: PromptModelOptions = {},
): PromptModel {
  const cfg = weights.config;
  const dtype = opts.dtype ?? "float32";
  const binary = opts.binary ?? false;
  const variant = opts.variant ?? {};
  const K = checkOutputs(weights, labelWordIds, variant);
  const spec = { weights, labelWordIds, binary, dtype, variant };
  const C = binary ? 1 : K;
  const sig = `${weights.hash}|${labelWordIds.join(",")}|${binary}|${dtype}|${variantTag(variant)}`;
  const rt = {
    device: opts.device,
    threads: opts.threads,
    spinning: opts.spinning,
    optimization: dtype === "float64" ? ("basic" as const) : ("all" as const),
    // Every batch has its own shape: no per-shape memory plans (RuntimeOptions.memPattern).
    memPattern: false,
  };
  const names = modelNames(cfg);
  const H = cfg.hiddenSize;

  let logitsGraph: BuiltGraph | undefined;
  let factorsGraph: ReturnType<typeof buildFactorsGraph> | undefined;
  const session = (kind: string, g: BuiltGraph) =>
    getSession(
      `${sig}|${kind}`,
      () => ({ build: (locate) => g.graph.toModel(g.outputs, locate), externalFiles: g.externalFiles }),
      rt,
    );

  const paramInfos: ParamInfo[] = (() => {
    const used = new Map(usedParamSpecs(weights, variant).map((s) => [s.name, s.shape]));
    const order = [...used.keys(), ...[...weights.tensors.keys()].filter((n) => !used.has(n))].filter((n) =>
      isTrainable(n, variant),
    );
    return order.map((name) => {
      const shape = weights.tensors.get(name)?.shape ?? used.get(name)!;
      return { name, shape, size: shape.reduce((p, v) => p * v, 1) };
    });
  })();
  const infoByName = new Map(paramInfos.map((p) => [p.name, p]));

  const check = (inputs: PromptInput[]) => {
    inputs.forEach((x, i) => {
      validateInput(x, i, cfg);
    });
  };

  async function logitsExact(inputs: PromptInput[]): Promise<Float64Array> {
    check(inputs);
    logitsGraph ??= buildLogitsGraph(spec);
    const s = await session("logits", logitsGraph);
    const out = new Float64Array(inputs.length * C);
    for (const idx of lengthBatches(
      inputs,
      opts.batchSize ?? Infinity,
      opts.batchSize ? Infinity : TOKEN_BUDGET.logits,
    )) {
      const batch = makeBatch(
        idx.map((i) => inputs[i]),
        cfg,
        dtype,
      );
      const r = await s.run(batch.feeds);
      const f = r[s.outputNames[0]].data as Arr;
      idx.forEach((i, b) => {
        for (let c = 0; c < C; c++) out[i * C + c] = f[b * C + c];
      });
    }
    return out;
  }

  function extract(
    layout: FactorLayout,
    byName: Map<string, Arr>,
    x: PromptInput,
    b: number,
    B: number,
    Tp: number,
  ): ExampleGradFactors {
    const T = x.inputIds.length;
    const get = (t: Tensor) => byName.get(t.name)!;
    const sharedX = new Map<string, Float32Array>(); // q, k and v share their input X
    const inputRows = (t: Tensor, TpEff: number, d: number, rows: number) => {
      let v = sharedX.get(t.name);
      if (!v) {
        v = tokenRows(get(t), 1, B, TpEff, d, b, rows);
        sharedX.set(t.name, v);
      }
      return v;
    };
    const linears: LinearFactor[] = layout.linears.map((l) => {
      const tokenwise = l.x.shape.length === 3; // [B, Tp, d] (encoder) or [B, d] (head, at the mask only)
      const dIn = l.x.shape[l.x.shape.length - 1] as number;
      const dFull = l.delta.shape[l.delta.shape.length - 1] as number;
      const cols: [number, number] = l.cols ?? [0, dFull];
      const rowsT = tokenwise ? T : 1;
      const TpEff = tokenwise ? Tp : 1;
      return {
        weight: l.weight,
        ...(l.bias ? { bias: l.bias } : {}),
        T: rowsT,
        dIn,
        dOut: cols[1] - cols[0],
        X: inputRows(l.x, TpEff, dIn, rowsT),
        delta: tokenRows(get(l.delta), C, B, TpEff, dFull, b, rowsT, cols),
      };
    });
    const dense = layout.norms.flatMap((n) => [
      { param: n.weight, size: H, values: tokenRows(get(n.dGamma), C, B, 1, H, b, 1) },
      { param: n.bias, size: H, values: tokenRows(get(n.dBeta), C, B, 1, H, b, 1) },
    ]);
    if (!layout.embDelta) return { C, linears, dense, sparse: headRows(layout, get, b, B), zero: layout.zero.slice() };
    // Embedding rows: row v of a table gets Σ_{t: id_t = v} δ_emb[t] (docs/kernels.md §3).
    const embD = tokenRows(get(layout.embDelta), C, B, Tp, H, b, T);
    const batchPos = makeBatch([x], cfg, "float32").feeds.position_ids.data as BigInt64Array;
    const rowsOf = (ids: number[], param: string, numRows: number): SparseRowsGrad => {
      const rows = Int32Array.from([...new Set(ids)].sort((p, q) => p - q));
      const where = new Map([...rows].map((r, k) => [r, k]));
      const values = new Float32Array(C * rows.length * H);
      for (let c = 0; c < C; c++)
        ids.forEach((id, t) => {
          const dst = (c * rows.length + where.get(id)!) * H;
          const src = (c * T + t) * H;
          for (let h = 0; h < H; h++) values[dst + h] += embD[src + h];
        });
      return { param, numRows, width: H, rows, values };
    };
    const ids = Array.from(x.inputIds);
    const sparse = [
      rowsOf(ids, names.wordEmb, cfg.vocabSize),
      rowsOf(Array.from(batchPos, Number), names.posEmb, cfg.maxPositionEmbeddings),
      rowsOf(new Array(T).fill(0), names.typeEmb, cfg.typeVocabSize),
    ];
    sparse.push(...headRows(layout, get, b, B));
    return { C, linears, dense, sparse, zero: layout.zero.slice() };
  }

  /** Decoder rows / bias: ∂f_c/∂D[w_k] = J[c][k] · h̃ and ∂f_c/∂bias[w_k] = J[c][k] (J = ∂f/∂z); none without a prompt. */
  function headRows(layout: FactorLayout, get: (t: Tensor) => Arr, b: number, B: number): SparseRowsGrad[] {
    if (variant.noPrompt) return [];
    const feat = tokenRows(get(layout.maskFeature), 1, B, 1, H, b, 1);
    const rows = Int32Array.from([...new Set(labelWordIds)].sort((p, q) => p - q));
    const dec = new Float32Array(C * rows.length * H);
    const bias = new Float32Array(C * rows.length);
    for (let c = 0; c < C; c++)
      labelWordIds.forEach((w, k) => {
        const coef = layout.outJacobian[c][k];
        const r = rows.indexOf(w);
        bias[c * rows.length + r] += coef;
        for (let h = 0; h < H; h++) dec[(c * rows.length + r) * H + h] += coef * feat[h];
      });
    return [
      { param: names.decoder, numRows: cfg.vocabSize, width: H, rows, values: dec },
      { param: names.decoderBias, numRows: cfg.vocabSize, width: 1, rows: rows.slice(), values: bias },
    ];
  }

  async function gradFactors(inputs: PromptInput[]): Promise<ExampleGradFactors[]> {
    check(inputs);
    factorsGraph ??= buildFactorsGraph(spec);
    const g = factorsGraph;
    const s = await session("factors", g);
    const out: ExampleGradFactors[] = new Array(inputs.length);
    for (const idx of lengthBatches(
      inputs,
      opts.batchSize ?? Infinity,
      opts.batchSize ? Infinity : TOKEN_BUDGET.factors,
    )) {
      const xs = idx.map((i) => inputs[i]);
      const batch = makeBatch(xs, cfg, dtype);
      const B = xs.length;
      const seed = new (dtype === "float64" ? Float64Array : Float32Array)(C * B * C);
      for (let c = 0; c < C; c++) for (let b = 0; b < B; b++) seed[(c * B + b) * C + c] = 1;
      const r = await s.run({ ...batch.feeds, seed: new ort.Tensor(dtype, seed, [C, B, C]) });
      const byName = new Map<string, Arr>(g.outputs.map((t, i) => [t.name, r[s.outputNames[i]].data as Arr]));
      idx.forEach((i, b) => {
        out[i] = extract(g.layout, byName, inputs[i], b, B, batch.T);
      });
    }
    return out;
  }

  return {
    C,
    logits: async (inputs) => Float32Array.from(await logitsExact(inputs)),
    logitsExact,
    gradFactors,
    params: () => paramInfos.map((p) => ({ ...p, shape: p.shape.slice() })),
    materialize: (f, param) => materializeGrad(f, param, infoByName.get(param)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Training mode: loss and dense gradients, parameters fed as graph inputs (updated values need no rebuild).

export interface TrainableModelOptions {
  device?: Device;
  threads?: number;
  /** Idle ORT threads spin-wait (see RuntimeOptions.spinning; default false). */
  spinning?: boolean;
  /** float64 graphs for gradient checks (then `params` holds Float64Arrays). */
  dtype?: FloatType;
  /**
   * Return the word-embedding and decoder gradients as their touched rows in `LossAndGrad.sparse` (the batch's
   * token ids, the label words) instead of dense [V, H] arrays in `grads`. Default false (dense).
   */
  sparseGrads?: boolean;
  /** No-prompt classifier and/or LoRA adapters; with LoRA only the adapters and heads are parameters (`params`). */
  variant?: ModelVariant;
}

/** A gradient that is zero outside `rows` (sorted, distinct): `values` holds those rows, [rows.length, width]. */
export interface SparseRows<A extends Float32Array | Float64Array = Float32Array> {
  rows: Int32Array;
  width: number;
  values: A;
}

export interface LossAndGrad<A extends Float32Array | Float64Array = Float32Array> {
  /** Mean cross-entropy over the batch of the softmax over the C label-word logits. */
  loss: number;
  /** Dense gradient of the loss for every parameter (but those in `sparse`), in the parameter's layout. */
  grads: Map<string, A>;
  /** With `sparseGrads`: the word-embedding and decoder gradients as touched rows (absent otherwise). */
  sparse?: Map<string, SparseRows<A>>;
}

/**
 * Row-sparse gradient of a Gather: row v gets Σ_{j: ids_j = v} d_j (d: the gathered rows' cotangent,
 * [ids.length, width]), summed in order of j.
 */
export function scatterRows<A extends Float32Array | Float64Array>(
  ids: ArrayLike<number>,
  d: A,
  width: number,
): SparseRows<A> {
  const rows = Int32Array.from(new Set(Array.from(ids))).sort();
  const where = new Map<number, number>();
  rows.forEach((r, k) => {
    where.set(r, k);
  });
  const values = new (d.constructor as new (n: number) => A)(rows.length * width);
  for (let j = 0; j < ids.length; j++) {
    const dst = where.get(ids[j])! * width;
    const src = j * width;
    for (let h = 0; h < width; h++) values[dst + h] += d[src + h];
  }
  return { rows, width, values };
}

/** The dense [numRows, width] array of a row-sparse gradient. */
export function densifyRows<A extends Float32Array | Float64Array>(s: SparseRows<A>, numRows: number): A {
  const out = new (s.values.constructor as new (n: number) => A)(numRows * s.width);
  s.rows.forEach((r, k) => {
    out.set(s.values.subarray(k * s.width, (k + 1) * s.width), r * s.width);
  });
  return out;
}

export interface TrainableModel<A extends Float32Array | Float64Array = Float32Array> {
  /** The live parameter values fed to every run (update them in place, or replace entries). */
  readonly params: Map<string, A>;
  /** Label-word logits [n, C] with the current parameters, eval mode (no dropout). */
  logits(inputs: PromptInput[]): Promise<A>;
  /**
   * One batch (run as one padded graph call). `dropoutSeed` given: dropout on (p from config.json), masks drawn
   * from a generator seeded with it, so the same seed repeats exactly; omitted: eval mode (no dropout).
   */
  lossAndGrad(inputs: PromptInput[], labels: number[], opts?: { dropoutSeed?: number }): Promise<LossAndGrad<A>>;
}

/** mulberry32: a small seeded generator of uniform [0, 1) numbers (dropout masks). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fill `m` with dropout multipliers (0 with probability p, else 1/(1−p)) from the mulberry32 stream whose state
 * is `state.a`, advancing it: the same numbers as `seededUniform`, inlined (≈ 15M draws per roberta-base step).
 */
export function fillDropoutMask(state: { a: number }, m: Float32Array | Float64Array, p: number): void {
  const keep = 1 / (1 - p);
  let a = state.a;
  for (let i = 0, n = m.length; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    m[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 < p ? 0 : keep;
  }
  state.a = a;
}

export function createTrainableModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts?: TrainableModelOptions & { dtype?: "float32" },
): TrainableModel<Float32Array>;
export function createTrainableModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts: TrainableModelOptions & { dtype: "float64" },
): TrainableModel<Float64Array>;
export function createTrainableModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts: TrainableModelOptions = {},
): TrainableModel<Float32Array> | TrainableModel<Float64Array> {
  const cfg = weights.config;
  const dtype = opts.dtype ?? "float32";
  const variant = opts.variant ?? {};
  const K = checkOutputs(weights, labelWordIds, variant);
  const spec = { weights, labelWordIds, binary: false, dtype, variant };
  const rt = {
    device: opts.device,
    threads: opts.threads,
    spinning: opts.spinning,
    optimization: dtype === "float64" ? ("basic" as const) : ("all" as const),
  };
  const sig = `${weights.hash}|${labelWordIds.join(",")}|${dtype}|${variantTag(variant)}`;
  validateWeights(weights, variant);
  const params = new Map<string, Float32Array | Float64Array>();
  for (const { name } of usedParamSpecs(weights, variant)) {
    if (!isTrainable(name, variant)) continue;
    const ref = weights.tensors.get(name)!;
    const data = ref.data ?? readTensor(ref);
    params.set(name, dtype === "float64" ? Float64Array.from(data) : data.slice());
  }
  const graphs = new Map<boolean, TrainGraph>();
  const graphFor = (dropout: boolean) => {
    let g = graphs.get(dropout);
    if (!g) {
      g = buildTrainGraph(spec, { dropout });
      graphs.set(dropout, g);
    }
    return g;
  };
  const sessionOf = (key: string, g: ParamInputGraph) =>
    getSession(key, () => ({ build: (locate) => g.graph.toModel(g.outputs, locate), externalFiles: g.externalFiles }), rt);
  const sessionFor = (dropout: boolean) => sessionOf(`${sig}|train|${dropout}`, graphFor(dropout));
  let evalGraph: ParamInputGraph | undefined;
  const F = dtype === "float64" ? Float64Array : Float32Array;
  function feedsFor(g: ParamInputGraph, inputs: PromptInput[], seed: number | undefined) {
    inputs.forEach((x, i) => {
      validateInput(x, i, cfg);
    });
    const batch = makeBatch(inputs, cfg, dtype);
    const B = inputs.length;
    const feeds: Record<string, ort.Tensor> = { ...batch.feeds };
    for (const [name, t] of g.paramInputs) {
      const v = params.get(name);
      if (!v) throw new Error(`params lacks ${name}`);
      // ort.Tensor wraps the live array and onnxruntime-node binds it without a copy (measured: feeding 38.6M
      // floats costs 0.01 ms per run), so in-place updates need nothing more.
      feeds[t.name] = new ort.Tensor(dtype, v, t.shape as number[]);
    }
    if (g.dropoutSites.length) {
      const state = { a: (seed ?? 0) >>> 0 };
      for (const { site, mask } of g.dropoutSites) {
        const p = site.endsWith("attn_probs") ? cfg.attentionProbsDropoutProb : cfg.hiddenDropoutProb;
        const dims = mask.shape.map((d) =>
          d === "batch" ? B : d === "seq" ? batch.T : typeof d === "number" ? d : Number.NaN,
        );
        const m = new F(dims.reduce((a, v) => a * v, 1));
        fillDropoutMask(state, m, p);
        feeds[mask.name] = new ort.Tensor(dtype, m, dims);
      }
    }
    return feeds;
  }

  const model = {
    params,
    async logits(inputs: PromptInput[]) {
      evalGraph ??= buildEvalGraph(spec);
      const s = await sessionOf(`${sig}|eval`, evalGraph);
      const r = await s.run(feedsFor(evalGraph, inputs, undefined));
      return r[s.outputNames[0]].data as Float32Array | Float64Array;
    },
    async lossAndGrad(inputs: PromptInput[], labels: number[], o: { dropoutSeed?: number } = {}) {
      if (labels.length !== inputs.length) throw new Error(`${inputs.length} inputs but ${labels.length} labels`);
      const dropout = o.dropoutSeed !== undefined;
      const g = graphFor(dropout);
      const s = await sessionFor(dropout);
      const feeds = feedsFor(g, inputs, o.dropoutSeed);
      const y = new F(inputs.length * K);
      labels.forEach((l, b) => {
        if (!Number.isInteger(l) || l < 0 || l >= K)
          throw new Error(`label ${b} is ${l}, expected an integer in [0, ${K})`);
        y[b * K + l] = 1;
      });
      feeds[g.labels.name] = new ort.Tensor(dtype, y, [inputs.length, K]);
      const r = await s.run(feeds);
      const out = (i: number) => r[s.outputNames[i]].data as Float32Array | Float64Array;
      const loss = Number(out(0)[0]);
      const names = [...g.grads.keys()];
      const grads = new Map(names.map((n, i) => [n, out(2 + i)]));
      const sparse = new Map<string, SparseRows<Float32Array | Float64Array>>();
      const tokenIds = Array.from(feeds.input_ids.data as BigInt64Array, Number);
      g.sparse.forEach(({ param, ids }, j) => {
        const width = (g.paramInputs.get(param)!.shape as number[])[1];
        const rows = scatterRows(ids === "input_ids" ? tokenIds : labelWordIds, out(2 + names.length + j), width);
        if (opts.sparseGrads) sparse.set(param, rows);
        else grads.set(param, densifyRows(rows, params.get(param)!.length / width));
      });
      return opts.sparseGrads ? { loss, grads, sparse } : { loss, grads };
    },
  };
  return model as TrainableModel<Float32Array> | TrainableModel<Float64Array>;
}
