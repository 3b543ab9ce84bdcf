import { describe, expect, it } from "vitest";
import { accuracy, evaluate, f1Binary, metricForTask, predictLabels } from "../../src/solvers/metrics.ts";
import { logOddsCrossEntropy, meanSquaredError } from "../../src/solvers/solve.ts";
import { binaryClassTargets, targetsFromLabels } from "../../src/solvers/targets.ts";

describe("predictions and metrics", () => {
  it("argmax over label words with ties to the first; binary p > 0 → 1, p = 0 → 0", () => {
    const scores = Float64Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0.1, -1, -1, -1, 0, 0, 3]);
    expect([...predictLabels(scores, 4, 3)]).toEqual([1, 0, 0, 2]);
    expect([...predictLabels(Float64Array.from([0.3, 0, -0.2, 1e-300]), 4, 1)]).toEqual([1, 0, 0, 1]);
    expect(() => predictLabels(Float64Array.from([1, 2]), 3, 1)).toThrow(/2 scores for 3×1/);
  });

  it("accuracy and binary F1 (positive = label index 1) on hand-made predictions", () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0];
    const pred = [1, 1, 0, 1, 0, 0, 1, 1];
    // TP = 3, FP = 2, FN = 1: F1 = 6 / 9; 5 of 8 correct.
    expect(accuracy(pred, labels)).toBe(5 / 8);
    expect(f1Binary(pred, labels)).toBeCloseTo(6 / 9, 15);
    expect(f1Binary([0, 0], [0, 0])).toBe(0);
    expect(f1Binary([0, 0], [1, 1])).toBe(0);
    expect(evaluate(Int32Array.from(pred), Int32Array.from(labels), "f1")).toEqual({
      metric: "f1",
      score: 6 / 9,
      acc: 5 / 8,
      f1: 6 / 9,
    });
    expect(() => accuracy([1], [1, 0])).toThrow(/1 predictions for 2 labels/);
  });

  it("picks F1 for MRPC and QQP, accuracy otherwise, unless meta.json says", () => {
    expect(metricForTask("MRPC")).toBe("f1");
    expect(metricForTask("qqp")).toBe("f1");
    expect(metricForTask("GLUE-SST-2")).toBe("acc");
    expect(metricForTask("sst-5")).toBe("acc");
    expect(metricForTask(undefined)).toBe("acc");
    expect(metricForTask("SST-2", "f1")).toBe("f1");
    expect(() => metricForTask("SST-2", "auc")).toThrow(/metric must be "acc" or "f1"/);
  });

  it("builds ±1 binary and flattened one-hot targets and their 0/1 classes", () => {
    expect([...targetsFromLabels(Int32Array.from([0, 1, 1]), 1, true)]).toEqual([-1, 1, 1]);
    expect([...targetsFromLabels(Int32Array.from([2, 0]), 3, false)]).toEqual([0, 0, 1, 1, 0, 0]);
    expect([...binaryClassTargets(Float64Array.from([-1, 1, 0, 1]))]).toEqual([0, 1, 0, 1]);
    expect(() => targetsFromLabels(Int32Array.from([0, 2]), 1, true, "labels.train.npy")).toThrow(
      /labels\.train\.npy: entry 1 is 2/,
    );
  });

  it("reports the reference's losses: MSE, and cross-entropy of log-odds", () => {
    expect(meanSquaredError(Float64Array.from([1, 0.5]), Float64Array.from([-1, 1]))).toBeCloseTo((4 + 0.25) / 2, 15);
    // log-odds z with target class c: −log σ(z) for c = 1, −log(1 − σ(z)) for c = 0
    const z = Float64Array.from([2, -1, 800]);
    const y = Float64Array.from([1, 1, -1]);
    const sig = (t: number) => 1 / (1 + Math.exp(-t));
    const expected = (-Math.log(sig(2)) - Math.log(sig(-1)) + 800) / 3;
    expect(logOddsCrossEntropy(z, y)).toBeCloseTo(expected, 12);
  });
});
