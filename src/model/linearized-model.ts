/**
 * The linearized prompt model as a trainable model (docs/linearization.md): parameters θ = θ₀ + τ, outputs
 * f_lin(x; θ) = f(x; θ₀) + J_θ₀(x)·(θ − θ₀) through the forward-mode JVP, and the gradient of the mean
 * cross-entropy of f_lin — Jᵀ_θ₀ ∂L/∂f_lin, reverse mode through the JVP nodes. No dropout: the linearization is
 * of the eval-mode network at θ₀.
 */
import { buildLinearizedGraph, type LinearizedGraph } from "./arch/linear-graph.ts";
import { readTensor } from "./arch/prompt-graph.ts";
import { makeBatch, validateInput } from "./batch.ts";
import { graphSession, modelRuntime, ort } from "./runtime/session.ts";
import type { LossAndGrad, TrainableModel, TrainableModelOptions } from "./trainable-model.ts";
import type { PromptInput } from "./types.ts";
import { parameterSpecs } from "./weights/params.ts";
import type { LoadedWeights } from "./weights/types.ts";

type Arr = Float32Array | Float64Array;

/**
 * f_lin around θ₀ = `weights`, with `params` (live, starting at θ₀) as θ. Gradients are dense for every parameter
 * (`sparseGrads` is not supported); `lossAndGrad` ignores a dropout seed.
 */
export function createLinearizedModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts: Omit<TrainableModelOptions, "sparseGrads"> = {},
): TrainableModel<Arr> {
  const cfg = weights.config;
  const dtype = opts.dtype ?? "float32";
  const numLabels = labelWordIds.length;
  const spec = { weights, labelWordIds, binary: false, dtype };
  const rt = modelRuntime(opts, dtype, false);
  const sig = `${weights.hash}|${labelWordIds.join(",")}|${dtype}|linearized`;
  const F = dtype === "float64" ? Float64Array : Float32Array;
  const params = new Map<string, Arr>();
  for (const { name } of parameterSpecs(cfg)) {
    const ref = weights.tensors.get(name);
    if (!ref) throw new Error(`weights lack parameter ${name}`);
    params.set(name, F.from(readTensor(ref)));
  }
  const graphs = new Map<boolean, LinearizedGraph>();
  const session = (train: boolean) => {
    let g = graphs.get(train);
    if (!g) {
      g = buildLinearizedGraph(spec, { train });
      graphs.set(train, g);
    }
    const built = g;
    return {
      g: built,
      s: graphSession(`${sig}|${train}`, built, rt),
    };
  };
  const feedsFor = (g: LinearizedGraph, inputs: PromptInput[]) => {
    inputs.forEach((x, i) => {
      validateInput(x, i, cfg);
    });
    const feeds: Record<string, ort.Tensor> = { ...makeBatch(inputs, cfg, dtype).feeds };
    for (const [name, t] of g.paramInputs)
      feeds[t.name] = new ort.Tensor(dtype, params.get(name)!, t.shape as number[]);
    return feeds;
  };
  return {
    params,
    async logits(inputs) {
      const { g, s } = session(false);
      const sess = await s;
      const r = await sess.run(feedsFor(g, inputs));
      return r[sess.outputNames[0]].data as Arr;
    },
    async lossAndGrad(inputs, labels): Promise<LossAndGrad<Arr>> {
      if (labels.length !== inputs.length) throw new Error(`${inputs.length} inputs but ${labels.length} labels`);
      const { g, s } = session(true);
      const sess = await s;
      const feeds = feedsFor(g, inputs);
      const y = new F(inputs.length * numLabels);
      labels.forEach((l, b) => {
        if (!Number.isInteger(l) || l < 0 || l >= numLabels)
          throw new Error(`label ${b} is ${l}, expected an integer in [0, ${numLabels})`);
        y[b * numLabels + l] = 1;
      });
      feeds[g.labels!.name] = new ort.Tensor(dtype, y, [inputs.length, numLabels]);
      const r = await sess.run(feeds);
      const out = (i: number) => r[sess.outputNames[i]].data as Arr;
      const names = [...g.grads!.keys()];
      return { loss: Number(out(0)[0]), grads: new Map(names.map((n, i) => [n, out(2 + i)])) };
    },
  };
}
