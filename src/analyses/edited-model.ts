/**
 * Models edited by task vectors, evaluated on several tasks' inputs (docs/analyses.md §2–3). For coefficients α,
 * `outputs(α)` gives each task's label-word logits [n_t, C_t] of
 *  - the nonlinear model f(x; θ₀ + Σᵢ αᵢτᵢ): the weights are materialized in memory once per α and run per task;
 *  - the linearized model f₀(x) + Σᵢ αᵢ J_θ₀(x)·τᵢ: f₀ and every Jτᵢ are computed once (one JVP per vector and
 *    example), after which any α costs a weighted sum and no weights are ever materialized.
 */
import { createHash } from "node:crypto";
import type { MetricName } from "../data/metrics.ts";
import type { PromptInput } from "../model/types.ts";
import type { LoadedWeights, TensorRef } from "../model/weights/types.ts";
import { combine, type TaskVector } from "./task-vectors.ts";

/** One task's evaluation set under its own prompt and label words. */
export interface TaskEval {
  name: string;
  metric: MetricName;
  labelWordIds: number[];
  /** The dev examples, then the test examples. */
  inputs: PromptInput[];
  labels: Int32Array;
  nDev: number;
}

export interface EditedModel {
  readonly tasks: readonly TaskEval[];
  /** Logits per task, [n_t, C_t] row-major. */
  outputs(alphas: readonly number[]): Promise<Float64Array[]>;
}

/** Runs a prompt model of `weights` over `inputs` with `labelWordIds`; returns [n, C] logits. */
export type LogitsFn = (
  weights: LoadedWeights,
  labelWordIds: number[],
  inputs: PromptInput[],
) => Promise<ArrayLike<number>>;

/** θ₀ + Σᵢ αᵢτᵢ as in-memory weights with their own hash (so no cache confuses them with θ₀). */
export function editedWeights(
  base: LoadedWeights,
  vectors: readonly TaskVector[],
  alphas: readonly number[],
): LoadedWeights {
  const params = combine(base, vectors, alphas);
  const tensors = new Map<string, TensorRef>();
  for (const [name, ref] of base.tensors) tensors.set(name, { name, shape: ref.shape, data: params.get(name)! });
  const hash = createHash("sha256")
    .update(`edited|${base.hash}|${vectors.map((v) => v.path).join(",")}|${alphas.join(",")}`)
    .digest("hex");
  return { config: base.config, tensors, hash, source: base.source };
}

export function nonlinearModel(
  base: LoadedWeights,
  vectors: readonly TaskVector[],
  tasks: readonly TaskEval[],
  logits: LogitsFn,
  release: () => Promise<void>,
): EditedModel {
  return {
    tasks,
    async outputs(alphas) {
      const w = alphas.every((a) => a === 0) ? base : editedWeights(base, vectors, alphas);
      const out: Float64Array[] = [];
      for (const t of tasks) out.push(Float64Array.from(await logits(w, t.labelWordIds, t.inputs)));
      await release(); // one α's sessions are never used again
      return out;
    },
  };
}

/** Per task: f₀ [n, C] and J·τᵢ [n, C] for every vector i. */
export interface Linearization {
  f0: Float64Array;
  jtau: Float64Array[];
}

export function linearizedModel(tasks: readonly TaskEval[], lin: readonly Linearization[]): EditedModel {
  return {
    tasks,
    async outputs(alphas) {
      return lin.map((l) => {
        if (alphas.length !== l.jtau.length)
          throw new Error(`${alphas.length} coefficients for ${l.jtau.length} task vectors`);
        const out = Float64Array.from(l.f0);
        l.jtau.forEach((j, i) => {
          const a = alphas[i];
          if (a !== 0) for (let r = 0; r < out.length; r++) out[r] += a * j[r];
        });
        return out;
      });
    },
  };
}
