/**
 * The prompt-based masked LM in training mode: mean cross-entropy over the label-word logits at <mask> and its
 * gradients, with the parameters fed as graph inputs (updated values need no rebuild), optional dropout
 * (masks from src/model/dropout.ts), and row-sparse gradients for the embedding and decoder tables.
 */

import {
  buildEvalGraph,
  buildTrainGraph,
  type FloatType,
  type ParamInputGraph,
  readTensor,
  type TrainGraph,
  usedParamSpecs,
  validateWeights,
} from "./arch/prompt-graph.ts";
import { makeBatch, validateInput } from "./batch.ts";
import { dropoutMaskFeeds } from "./dropout.ts";
import type { Device } from "./runtime/providers.ts";
import { graphSession, modelRuntime, ort } from "./runtime/session.ts";
import { densifyRows, type SparseRows, scatterRows } from "./sparse-rows.ts";
import type { PromptInput } from "./types.ts";
import { checkOutputs, isTrainable, type ModelVariant, variantTag } from "./variant.ts";
import type { LoadedWeights } from "./weights/types.ts";

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

export interface LossAndGrad<A extends Float32Array | Float64Array = Float32Array> {
  /** Mean cross-entropy over the batch of the softmax over the C label-word logits. */
  loss: number;
  /** Dense gradient of the loss for every parameter (but those in `sparse`), in the parameter's layout. */
  grads: Map<string, A>;
  /** With `sparseGrads`: the word-embedding and decoder gradients as touched rows (absent otherwise). */
  sparse?: Map<string, SparseRows<A>>;
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
  const numLabels = checkOutputs(weights, labelWordIds, variant);
  const spec = { weights, labelWordIds, binary: false, dtype, variant };
  const rt = modelRuntime(opts, dtype);
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
  const sessionOf = (key: string, g: ParamInputGraph) => graphSession(key, g, rt);
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
    if (g.dropoutSites.length)
      Object.assign(feeds, dropoutMaskFeeds(g.dropoutSites, cfg, B, batch.T, seed ?? 0, dtype));
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
      const y = new F(inputs.length * numLabels);
      labels.forEach((l, b) => {
        if (!Number.isInteger(l) || l < 0 || l >= numLabels)
          throw new Error(`label ${b} is ${l}, expected an integer in [0, ${numLabels})`);
        y[b * numLabels + l] = 1;
      });
      feeds[g.labels.name] = new ort.Tensor(dtype, y, [inputs.length, numLabels]);
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
