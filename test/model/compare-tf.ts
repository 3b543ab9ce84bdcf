/** Comparisons of a PromptModel against the independent tfjs oracle (reference-tf.ts), shared by the tests. */
import { expect } from "vitest";
import type { PromptModel } from "../../src/model/prompt-model.ts";
import type { PromptInput } from "../../src/model/types.ts";
import type { LoadedWeights } from "../../src/model/weights/types.ts";
import { tfFAndGrads } from "./reference-tf.ts";

/** max |a − b| / max |b| (scale-relative error of a whole tensor). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** Largest |f − f_tf| over every input and output. */
export async function logitsErrorVsTf(
  m: PromptModel,
  w: LoadedWeights,
  inputs: PromptInput[],
  labels: number[],
  binary: boolean,
): Promise<number> {
  const f = await m.logits(inputs);
  let worst = 0;
  inputs.forEach((x, i) => {
    const ref = tfFAndGrads(w, x, labels, binary).f;
    expect(ref.length).toBe(m.C);
    for (let c = 0; c < m.C; c++) worst = Math.max(worst, Math.abs(f[i * m.C + c] - ref[c]));
  });
  return worst;
}

/**
 * Every parameter's materialized gradient rows equal tfjs autodiff on `w` (≤ 1e-4 relative). The key-projection
 * bias is exactly zero in exact arithmetic: entk reports exact zeros, tfjs rounding noise.
 */
export async function expectGradsMatchTf(
  m: PromptModel,
  w: LoadedWeights,
  inputs: PromptInput[],
  labels: number[],
  binary: boolean,
): Promise<void> {
  const factors = await m.gradFactors(inputs);
  const params = m.params();
  expect(params.length).toBe(w.tensors.size);
  for (let i = 0; i < inputs.length; i++) {
    const ref = tfFAndGrads(w, inputs[i], labels, binary);
    expect(factors[i].C).toBe(m.C);
    for (const p of params) {
      const rows = m.materialize(factors[i], p.name);
      expect(rows.length).toBe(factors[i].C * p.size);
      for (let c = 0; c < factors[i].C; c++) {
        const got = rows.subarray(c * p.size, (c + 1) * p.size);
        const want = ref.grads[c].get(p.name)!;
        if (/attention\.self\.key\.bias$/.test(p.name)) {
          expect(factors[i].zero).toContain(p.name);
          expect(Math.max(...got.map(Math.abs))).toBe(0);
          expect(Math.max(...want.map(Math.abs))).toBeLessThan(1e-5);
          continue;
        }
        const e = relErr(got, want);
        if (e > 1e-4) throw new Error(`${p.name} (example ${i}, output ${c}): relative error ${e}`);
      }
    }
  }
}
