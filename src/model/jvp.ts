/**
 * Exact Jacobian-vector products of the prompt model's outputs (docs/linearization.md): for a direction v over
 * the parameters, J_θ₀(x)·v = d/dε f(x; θ₀ + εv) at ε = 0, computed by forward-mode autodiff in the same ONNX
 * graph as f(x; θ₀) — one run gives both, at about the cost of two to three forwards.
 */
import { buildJvpGraph, type JvpGraph, usedParams } from "./arch/linear-graph.ts";
import { lengthBatches, makeBatch, TOKEN_BUDGET } from "./batch.ts";
import type { PromptModelOptions } from "./prompt-model.ts";
import { graphSession, modelRuntime, ort } from "./runtime/session.ts";
import type { PromptInput } from "./types.ts";
import type { LoadedWeights } from "./weights/types.ts";

/** A direction in parameter space by HF parameter name (flat, row-major, the parameter's size). */
export type Direction = ReadonlyMap<string, ArrayLike<number>>;

export interface JvpResult {
  /** f(x; θ₀), [n, C] row-major (binary mode: C = 1, f = z[w₁] − z[w₀]). */
  f: Float64Array;
  /** J_θ₀(x)·v, [n, C]. */
  jv: Float64Array;
}

export interface JvpModel {
  readonly C: number;
  /**
   * f(x; θ₀) and J·v for every input. Parameters absent from v have tangent 0; entries for tensors of the
   * checkpoint that f does not use (e.g. the pooler) contribute exactly 0 and are ignored.
   */
  jvp(inputs: PromptInput[], v: Direction): Promise<JvpResult>;
}

/** The prompt model at θ₀ = `weights` with forward-mode products (same options as createPromptModel). */
export function createJvpModel(
  weights: LoadedWeights,
  labelWordIds: number[],
  opts: PromptModelOptions = {},
): JvpModel {
  const dtype = opts.dtype ?? "float32";
  const binary = opts.binary ?? false;
  const spec = { weights, labelWordIds, binary, dtype };
  const C = binary ? 1 : labelWordIds.length;
  const used = new Map(usedParams(spec).map((p) => [p.name, p.shape.reduce((a, b) => a * b, 1)]));
  const rt = modelRuntime(opts, dtype, false);
  const graphs = new Map<string, JvpGraph>();
  const sig = `${weights.hash}|${labelWordIds.join(",")}|${binary}|${dtype}|jvp`;
  const F = dtype === "float64" ? Float64Array : Float32Array;

  async function jvpAll(inputs: PromptInput[], v: Direction): Promise<JvpResult> {
    const names: string[] = [];
    for (const [name, values] of v) {
      const size = used.get(name);
      if (size === undefined) {
        if (weights.tensors.has(name)) continue; // not used by f: its Jacobian columns are 0
        throw new Error(`jvp: direction has an entry for ${name}, which is not a parameter of the model`);
      }
      if (values.length !== size)
        throw new Error(`jvp: direction for ${name} has ${values.length} values, the parameter has ${size}`);
      names.push(name);
    }
    names.sort();
    const key = names.join(",");
    let g = graphs.get(key);
    if (!g) {
      g = buildJvpGraph(spec, names);
      graphs.set(key, g);
    }
    const built = g;
    const s = await graphSession(`${sig}|${key}`, built, rt);
    const tangentFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of built.tangentInputs) {
      const values = v.get(name)!;
      const data = values instanceof F ? values : F.from(values);
      tangentFeeds[t.name] = new ort.Tensor(dtype, data, t.shape as number[]);
    }
    const f = new Float64Array(inputs.length * C);
    const jv = new Float64Array(inputs.length * C);
    const size = opts.batchSize ?? Infinity;
    // Forward plus tangent values: about twice the activations of a logits run per token.
    for (const idx of lengthBatches(inputs, size, opts.batchSize ? Infinity : TOKEN_BUDGET.factors)) {
      const batch = makeBatch(
        idx.map((i) => inputs[i]),
        weights.config,
        dtype,
      );
      const r = await s.run({ ...batch.feeds, ...tangentFeeds });
      const fo = r[s.outputNames[0]].data as Float32Array | Float64Array;
      const jo = r[s.outputNames[1]].data as Float32Array | Float64Array;
      idx.forEach((i, b) => {
        for (let c = 0; c < C; c++) {
          f[i * C + c] = fo[b * C + c];
          jv[i * C + c] = jo[b * C + c];
        }
      });
    }
    return { f, jv };
  }

  return { C, jvp: jvpAll };
}

/**
 * One-shot J_θ₀(x)·v (and f(x; θ₀)) for prompt inputs: `createJvpModel(weights, labelWordIds, opts).jvp(inputs,
 * v)`. Sessions are cached, so repeated calls with the same model and parameter set do not rebuild the graph.
 */
export function jvp(
  weights: LoadedWeights,
  labelWordIds: number[],
  inputs: PromptInput[],
  v: Direction,
  opts: PromptModelOptions = {},
): Promise<JvpResult> {
  return createJvpModel(weights, labelWordIds, opts).jvp(inputs, v);
}
