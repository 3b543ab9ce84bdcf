/**
 * Graphs of the linearized prompt model (docs/linearization.md): f_lin(x; θ₀ + τ) = f(x; θ₀) + J_θ₀(x)·τ.
 * - "jvp": f(x; θ₀) and J·v for tangent inputs v (θ₀ as initializers, one forward sweep through every op's JVP
 *   rule next to the primal forward);
 * - "linearized": the same with the parameters θ = θ₀ + τ as graph inputs (τ = θ − θ₀ in the graph), returning
 *   f_lin, and for training the mean cross-entropy of f_lin and its gradient Jᵀ·∂L/∂f_lin with respect to θ
 *   (reverse mode through the JVP nodes: the JVP is linear in τ, so this is the VJP at θ₀).
 */
import { grad } from "../graph/autodiff.ts";
import { jvp } from "../graph/forward-mode.ts";
import type { Graph } from "../graph/graph.ts";
import { add, sub } from "../graph/ops.ts";
import type { Tensor } from "../graph/tensor.ts";
import { parameterSpecs } from "../weights/params.ts";
import {
  type BuiltGraph,
  forward,
  initializerParams,
  meanCrossEntropy,
  outputs,
  type PromptGraphSpec,
  validateWeights,
} from "./prompt-graph.ts";

/** The parameters f depends on, in parameterSpecs order, with their shapes. */
export function usedParams(spec: PromptGraphSpec): { name: string; shape: number[] }[] {
  return parameterSpecs(spec.weights.config).map(({ name, shape }) => ({ name, shape }));
}

export interface JvpGraph extends BuiltGraph {
  /** Tangent inputs by parameter name (shape of the parameter). */
  tangentInputs: Map<string, Tensor>;
}

function f0Graph(spec: PromptGraphSpec) {
  validateWeights(spec.weights);
  const fw = forward(spec, (g, files) => initializerParams(g, spec.weights, spec.dtype, files));
  return { ...fw, f: outputs(fw.g, fw.logits, spec).f };
}

/** The tangent of f, or zeros shaped like f when none of the given parameters influences it. */
function tangentOf(g: Graph, f: Tensor, t: Tensor | undefined): Tensor {
  return t ?? g.untaped(() => sub(f, f));
}

/** Outputs [f(x; θ₀), J·v] ([batch, C] each) with tangent inputs for the parameters `names` (a subset of f's). */
export function buildJvpGraph(spec: PromptGraphSpec, names: string[]): JvpGraph {
  const { g, files, inputs, f, p } = f0Graph(spec);
  const shapes = new Map(usedParams(spec).map((s) => [s.name, s.shape]));
  const tangentInputs = new Map<string, Tensor>();
  for (const n of names) {
    const shape = shapes.get(n);
    if (!shape) throw new Error(`jvp: ${n} is not a parameter of the prompt model`);
    tangentInputs.set(n, g.input(`tangent.${n}`, spec.dtype, shape));
  }
  const [jv] = jvp([f], names.map(p), [...tangentInputs.values()]);
  return { graph: g, inputs, outputs: [f, tangentOf(g, f, jv)], externalFiles: [...files], tangentInputs };
}

export interface LinearizedGraph extends BuiltGraph {
  /** The parameters θ = θ₀ + τ as graph inputs, by name. */
  paramInputs: Map<string, Tensor>;
  /** Training only: one-hot labels [batch, K], the mean cross-entropy of f_lin, and ∂L/∂θ by name (outputs 1…). */
  labels?: Tensor;
  grads?: Map<string, Tensor>;
}

/**
 * f_lin = f(x; θ₀) + J·(θ − θ₀) over the label-word logits [batch, K] (never binary: as the training graph),
 * θ fed as inputs. `train`: outputs [loss, f_lin, ...dense gradients in paramInputs order].
 */
export function buildLinearizedGraph(spec: PromptGraphSpec, opts: { train: boolean }): LinearizedGraph {
  const { g, files, inputs, f, p } = f0Graph(spec);
  const params = usedParams(spec);
  const paramInputs = new Map(params.map(({ name, shape }) => [name, g.input(`param.${name}`, spec.dtype, shape)]));
  const primals = params.map(({ name }) => p(name));
  const taus = params.map(({ name }, i) => {
    const theta = paramInputs.get(name)!;
    // τ = θ − θ₀ (taped: reverse mode reaches θ through it with the identity).
    return sub(theta, primals[i]);
  });
  const [jv] = jvp([f], primals, taus);
  const flin = add(f, tangentOf(g, f, jv));
  if (!opts.train) return { graph: g, inputs, outputs: [flin], externalFiles: [...files], paramInputs };
  const labels = g.input("labels", spec.dtype, ["batch", spec.labelWordIds.length]);
  const loss = meanCrossEntropy(flin, labels);
  const ps = [...paramInputs.values()];
  const gs = grad([loss], [g.constant([1], [1])], ps);
  const grads = new Map([...paramInputs.keys()].map((n, i) => [n, gs[i]]));
  return {
    graph: g,
    inputs,
    outputs: [loss, flin, ...gs],
    externalFiles: [...files],
    paramInputs,
    labels,
    grads,
  };
}
