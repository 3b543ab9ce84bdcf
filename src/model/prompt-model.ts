/**
 * The prompt-based masked LM as entk's kernels and trainers see it: f(x) = the label-word logits at <mask>
 * (docs/protocol.md §4; binary mode f = z[w₁] − z[w₀]), its per-example gradients in factored form, and dense rows.
 * Eval mode (no dropout). Inputs are batched internally (src/model/batch.ts: sorted by length, padded; results
 * in input order). Training mode (loss, dense and row-sparse gradients, dropout) is src/model/trainable-model.ts.
 */

import {
  type BuiltGraph,
  buildFactorsGraph,
  buildLogitsGraph,
  type FactorLayout,
  type FloatType,
  usedParamSpecs,
} from "./arch/prompt-graph.ts";
import { lengthBatches, makeBatch, TOKEN_BUDGET, validateInput } from "./batch.ts";
import type { ExampleGradFactors, LinearFactor, ParamInfo, SparseRowsGrad } from "./grad-factors.ts";
import { materializeGrad } from "./gradients.ts";
import type { Tensor } from "./graph/tensor.ts";
import type { Device } from "./runtime/providers.ts";
import { graphSession, modelRuntime, ort } from "./runtime/session.ts";
import type { PromptInput } from "./types.ts";
import { checkOutputs, isTrainable, type ModelVariant, variantTag } from "./variant.ts";
import { modelNames } from "./weights/params.ts";
import type { LoadedWeights } from "./weights/types.ts";

// The model layer's other modules, re-exported for the importers of this one.
export { type Batch, lengthBatches, makeBatch, TOKEN_BUDGET } from "./batch.ts";
export { fillDropoutMask, seededUniform } from "./dropout.ts";
export { densifyRows, type SparseRows, scatterRows } from "./sparse-rows.ts";
export {
  createTrainableModel,
  type LossAndGrad,
  type TrainableModel,
  type TrainableModelOptions,
} from "./trainable-model.ts";

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

export function createPromptModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts: PromptModelOptions = {},
): PromptModel {
  const cfg = weights.config;
  const dtype = opts.dtype ?? "float32";
  const binary = opts.binary ?? false;
  const variant = opts.variant ?? {};
  const numLabels = checkOutputs(weights, labelWordIds, variant);
  const spec = { weights, labelWordIds, binary, dtype, variant };
  const C = binary ? 1 : numLabels;
  const sig = `${weights.hash}|${labelWordIds.join(",")}|${binary}|${dtype}|${variantTag(variant)}`;
  // Every batch has its own shape: no per-shape memory plans (RuntimeOptions.memPattern).
  const rt = modelRuntime(opts, dtype, false);
  const names = modelNames(cfg);
  const H = cfg.hiddenSize;

  let logitsGraph: BuiltGraph | undefined;
  let factorsGraph: ReturnType<typeof buildFactorsGraph> | undefined;
  const session = (kind: string, g: BuiltGraph) => graphSession(`${sig}|${kind}`, g, rt);

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
