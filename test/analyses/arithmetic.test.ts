/**
 * Task arithmetic and weight disentanglement on hand-made linear models, where every prediction can be worked out
 * by hand: f_t(x; α) = f₀ + Σᵢ αᵢ Jτᵢ with binary outputs (C = 1, class 1 iff the logit is > 0).
 */
import { describe, expect, it } from "vitest";
import { disentanglement, linspace, taskArithmetic } from "../../src/analyses/arithmetic.ts";
import { linearizedModel, type TaskEval } from "../../src/analyses/edited-model.ts";

const task = (name: string, labels: number[], nDev: number): TaskEval => ({
  name,
  metric: "acc",
  labelWordIds: [1],
  inputs: labels.map(() => ({ inputIds: [0, 1, 2], maskPos: 1 })),
  labels: Int32Array.from(labels),
  nDev,
});

describe("weight disentanglement error", () => {
  it("is 0 for vectors acting on disjoint tasks and counts disagreements otherwise", async () => {
    // Task A: 2 examples; τ₁ moves A's logits, τ₂ does not. Task B: 2 examples, moved by τ₂ only.
    const A = task("A", [1, 0], 1);
    const B = task("B", [1, 0], 1);
    const disjoint = linearizedModel(
      [A, B],
      [
        { f0: Float64Array.of(-1, 1), jtau: [Float64Array.of(2, -2), Float64Array.of(0, 0)] },
        { f0: Float64Array.of(-1, 1), jtau: [Float64Array.of(0, 0), Float64Array.of(2, -2)] },
      ],
    );
    const grid = linspace(-3, 3, 5);
    const d0 = await disentanglement(disjoint, grid);
    expect(d0.xi.flat().every((v) => v === 0)).toBe(true);
    // Now τ₂ also moves A's first logit by 10·α₂. With α₁ = 1.5 the single edit gives A's logits (2, −2), i.e.
    // predictions (1, 0); adding α₂ = −3 makes the first logit 2 − 30 < 0, so one of A's two predictions changes
    // (ξ = 0.5, B unaffected), while α₂ = +3 keeps it positive (ξ = 0).
    const entangled = linearizedModel(
      [A, B],
      [
        { f0: Float64Array.of(-1, 1), jtau: [Float64Array.of(2, -2), Float64Array.of(10, 0)] },
        { f0: Float64Array.of(-1, 1), jtau: [Float64Array.of(0, 0), Float64Array.of(2, -2)] },
      ],
    );
    const d1 = await disentanglement(entangled, grid);
    const r = grid.indexOf(3);
    const c = grid.indexOf(1.5);
    expect(d1.xi[r][c]).toBe(0);
    expect(d1.xi[grid.indexOf(-3)][c]).toBe(0.5);
    expect(d1.mean).toBeGreaterThan(0);
  });
});

describe("task arithmetic", () => {
  // Two tasks, each fine-tuned vector fixes its own task; τ₂ hurts task A when added at full weight.
  const A = task("A", [1, 0, 1, 0], 2);
  const B = task("B", [0, 1, 0, 1], 2);
  const model = linearizedModel(
    [A, B],
    [
      // A: f₀ gets every example wrong; τ₁ fixes all of them; τ₂ pushes every A logit by +3 (hurts A's 0-labels).
      { f0: Float64Array.of(-1, 1, -1, 1), jtau: [Float64Array.of(2, -2, 2, -2), Float64Array.of(3, 3, 3, 3)] },
      // B: f₀ right on half; τ₂ fixes the rest; τ₁ does nothing to B.
      { f0: Float64Array.of(-1, -1, -1, -1), jtau: [Float64Array.of(0, 0, 0, 0), Float64Array.of(0, 4, 0, 4)] },
    ],
  );

  it("zero-shot, fine-tuned, addition picked on dev by mean normalized score, negation with controls", async () => {
    const grid = [0, 0.25, 0.5, 0.75, 1];
    const r = await taskArithmetic(model, { grid });
    expect(r.zeroShot.dev).toEqual([0, 0.5]);
    expect(r.finetuned.dev).toEqual([1, 1]);
    // Addition with α on both vectors: A's logits (−1 + 5α, 1 + α) on (label 1, label 0) rows, right on the first
    // iff α > 0.2 and never on the second; B's (−1, −1 + 4α) on (label 0, label 1) rows, right on the second iff
    // α > 0.25. Mean normalized dev score over the grid: 0.25, 0.5, 0.75, 0.75, 0.75 → α = 0.5 (first of the ties).
    expect(r.addition.alpha).toBe(0.5);
    expect(r.addition.dev.absolute).toEqual([0.5, 1]);
    expect(r.addition.dev.normalized).toEqual([0.5, 1]);
    // Negating τ₁: A's logits (−1 − 2α, 1 + 2α) are wrong for every α (score 0 from α = 0, the first minimum);
    // B, the control, keeps its zero-shot 0.5.
    expect(r.negation[0].alpha).toBe(0);
    expect(r.negation[0].dev!.controls).toEqual([0.5]);
  });
});
