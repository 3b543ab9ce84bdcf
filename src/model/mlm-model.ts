/**
 * The masked-LM model the pretraining loop drives: live parameters fed to the MLM graphs (arch/mlm-graph.ts) each
 * run, loss and gradients of a masked batch with seeded dropout, and eval-mode loss and top-1 hits.
 */
import { buildMlmGraph, type MlmGraph } from "./arch/mlm-graph.ts";
import type { FloatType } from "./arch/prompt-graph.ts";
import { readTensor } from "./arch/prompt-graph.ts";
import { dropoutMaskFeeds } from "./dropout.ts";
import type { Device } from "./runtime/providers.ts";
import { graphSession, modelRuntime, ort } from "./runtime/session.ts";
import { parameterSpecs } from "./weights/params.ts";
import type { LoadedWeights } from "./weights/types.ts";

/** A batch of packed sequences with some positions masked (src/training/pretrain/masking.ts). */
export interface MlmBatch {
  /** Rows × seqLen token ids after masking, row-major. */
  inputIds: Int32Array;
  rows: number;
  seqLen: number;
  /** Flat indices b·seqLen + t of the masked positions (≥ 1 of them). */
  maskedIndex: Int32Array;
  /** The original token at each masked position. */
  labels: Int32Array;
}

export interface MlmLossAndGrad<A extends Float32Array | Float64Array = Float32Array> {
  loss: number;
  /** ∂loss/∂θ for every parameter but the word embeddings, in each parameter's layout. */
  grads: Map<string, A>;
  /** The word-embedding gradient as the cotangent of each input position's row, [rows·seqLen, H]. */
  wordRows: A;
  wordEmb: string;
}

export interface MlmModel<A extends Float32Array | Float64Array = Float32Array> {
  readonly params: Map<string, A>;
  lossAndGrad(batch: MlmBatch, dropoutSeed?: number): Promise<MlmLossAndGrad<A>>;
  /** Eval mode: mean loss over the masked positions and how many of them the top-1 prediction gets right. */
  evaluate(batch: MlmBatch): Promise<{ loss: number; hits: number; count: number }>;
}

export interface MlmModelOptions {
  device?: Device;
  threads?: number;
  dtype?: FloatType;
  /** Initial parameter values (default: the weights' values). */
  params?: Map<string, Float32Array>;
}

export function createMlmModel(weights: LoadedWeights, opts: MlmModelOptions & { dtype?: "float32" }): MlmModel;
export function createMlmModel(
  weights: LoadedWeights,
  opts: MlmModelOptions & { dtype: "float64" },
): MlmModel<Float64Array>;
export function createMlmModel(
  weights: LoadedWeights,
  opts: MlmModelOptions = {},
): MlmModel<Float32Array> | MlmModel<Float64Array> {
  const cfg = weights.config;
  const dtype = opts.dtype ?? "float32";
  const F = dtype === "float64" ? Float64Array : Float32Array;
  const params = new Map<string, Float32Array | Float64Array>();
  for (const { name } of parameterSpecs(cfg)) {
    const given = opts.params?.get(name);
    const data = given ?? readTensor(weights.tensors.get(name)!);
    params.set(name, dtype === "float64" ? Float64Array.from(data) : given ? data : data.slice());
  }
  const rt = modelRuntime({ device: opts.device, threads: opts.threads }, dtype);
  const graphs = new Map<boolean, MlmGraph>();
  const graphOf = (train: boolean) => {
    let g = graphs.get(train);
    if (!g) {
      g = buildMlmGraph(weights, { train, dtype });
      graphs.set(train, g);
    }
    return g;
  };
  const sessionOf = (train: boolean) => {
    const g = graphOf(train);
    return graphSession(`${weights.hash}|mlm|${train}|${dtype}`, { graph: g.graph, outputs: g.outputs }, rt);
  };

  function feeds(g: MlmGraph, b: MlmBatch, seed: number | undefined): Record<string, ort.Tensor> {
    const { rows: B, seqLen: T } = b;
    if (b.inputIds.length !== B * T) throw new Error(`batch: ${b.inputIds.length} ids for ${B} × ${T}`);
    if (b.maskedIndex.length < 1 || b.maskedIndex.length !== b.labels.length)
      throw new Error("batch: needs ≥ 1 masked position and one label per masked position");
    const maxLen =
      cfg.modelType === "roberta" ? cfg.maxPositionEmbeddings - cfg.padTokenId - 1 : cfg.maxPositionEmbeddings;
    if (T > maxLen) throw new Error(`batch: sequences of ${T} tokens, the model takes at most ${maxLen}`);
    const pos = new BigInt64Array(B * T);
    for (let r = 0; r < B; r++)
      for (let t = 0; t < T; t++) pos[r * T + t] = BigInt(cfg.modelType === "roberta" ? cfg.padTokenId + 1 + t : t);
    const big = (a: Int32Array) => BigInt64Array.from(a, (v) => BigInt(v));
    const out: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", big(b.inputIds), [B, T]),
      position_ids: new ort.Tensor("int64", pos, [B, T]),
      attn_bias: new ort.Tensor(dtype, new F(B * T), [B, 1, 1, T]),
      masked_index: new ort.Tensor("int64", big(b.maskedIndex), [b.maskedIndex.length]),
      mlm_labels: new ort.Tensor("int64", big(b.labels), [b.labels.length]),
    };
    for (const [name, t] of g.paramInputs) out[t.name] = new ort.Tensor(dtype, params.get(name)!, t.shape as number[]);
    Object.assign(out, dropoutMaskFeeds(g.dropoutSites, cfg, B, T, seed ?? 0, dtype));
    return out;
  }

  const model = {
    params,
    async lossAndGrad(b: MlmBatch, dropoutSeed?: number) {
      const train = dropoutSeed !== undefined;
      // Eval-mode gradients (gradient checks) use a training graph whose dropout masks are all ones.
      const g = graphOf(true);
      const s = await sessionOf(true);
      const f = feeds(g, b, dropoutSeed);
      if (!train) for (const { mask } of g.dropoutSites) (f[mask.name].data as Float32Array).fill(1);
      const r = await s.run(f);
      const out = (i: number) => r[s.outputNames[i]].data as Float32Array | Float64Array;
      const names = [...g.grads.keys()];
      return {
        loss: Number(out(0)[0]),
        grads: new Map(names.map((n, i) => [n, out(1 + i)])),
        wordRows: out(1 + names.length),
        wordEmb: g.wordEmb,
      };
    },
    async evaluate(b: MlmBatch) {
      const g = graphOf(false);
      const s = await sessionOf(false);
      const r = await s.run(feeds(g, b, undefined));
      return {
        loss: Number(r[s.outputNames[0]].data[0]),
        hits: Number(r[s.outputNames[1]].data[0]),
        count: b.labels.length,
      };
    },
  };
  return model as MlmModel<Float32Array> | MlmModel<Float64Array>;
}
