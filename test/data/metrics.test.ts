import { describe, expect, it } from "vitest";
import {
  accuracy,
  argmaxRows,
  classificationMetrics,
  f1Binary,
  metricForTask,
  metricRecord,
  predictLabels,
  rocAuc,
  scoreMetrics,
} from "../../src/data/metrics.ts";
import { taskInfo } from "../../src/report/tasks.ts";
import * as solvers from "../../src/solvers/index.ts";

describe("shared metrics (docs/protocol.md §1.2)", () => {
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
    expect(scoreMetrics(Int32Array.from(pred), Int32Array.from(labels), "f1")).toEqual({
      metric: "f1",
      score: 6 / 9,
      acc: 5 / 8,
      f1: 6 / 9,
    });
    expect(() => accuracy([1], [1, 0])).toThrow(/1 predictions for 2 labels/);
  });

  it("ROC AUC equals the brute-force share of (positive, negative) pairs ordered right, ties counting 1/2", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const n of [2, 9, 200]) {
      // Scores on a coarse grid so that ties, within and across classes, occur.
      const labels = Array.from({ length: n }, (_, i) => (i < 1 ? 0 : i < 2 ? 1 : rand() < 0.4 ? 1 : 0));
      const scores = labels.map((y) => Math.round((rand() + 0.3 * y) * 8) / 8);
      let good = 0;
      let pairs = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          if (labels[i] === 1 && labels[j] === 0) {
            pairs++;
            good += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
          }
      expect(rocAuc(scores, labels)).toBeCloseTo(good / pairs, 12);
    }
    expect(rocAuc([0.1, 0.9, 0.4], [0, 1, 0])).toBe(1);
    expect(rocAuc([3, 3, 3, 3], [0, 1, 0, 1])).toBe(0.5);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/both classes/);
    expect(() => rocAuc([1, 2], [0, 2])).toThrow(/0 or 1/);
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

  it("argmaxRows keeps ties on the first index and rejects a ragged score array", () => {
    expect([...argmaxRows([1, 2, 3, 3, 0, -1], 2)]).toEqual([1, 0, 0]);
    expect([...argmaxRows(Float64Array.from([-0.5, -0.5, -0.5]), 3)]).toEqual([0]);
    expect(() => argmaxRows([1, 2, 3], 2)).toThrow(/3 scores are not a multiple of C = 2/);
  });

  it("scoreMetrics, metricRecord and classificationMetrics agree on acc-only and F1 tasks", () => {
    const labels = [1, 0, 0, 1];
    const pred = [1, 1, 0, 0];
    expect(scoreMetrics(pred, labels, "acc")).toEqual({ metric: "acc", score: 0.5, acc: 0.5 });
    expect(metricRecord(scoreMetrics(pred, labels, "acc"))).toEqual({ acc: 0.5 });
    expect(classificationMetrics(pred, labels, "f1")).toEqual({ acc: 0.5, f1: 0.5 });
    expect(() => accuracy([], [])).toThrow(/no examples/);
  });

  it("is the one implementation behind the solver and report views", () => {
    expect(solvers.evaluate).toBe(scoreMetrics);
    expect(solvers.predictLabels).toBe(predictLabels);
    expect(solvers.metricForTask).toBe(metricForTask);
    expect(taskInfo("MRPC").metric).toBe("f1");
    expect(taskInfo("qqp").metric).toBe("f1");
    expect(taskInfo("SST-5").metric).toBe("acc");
    expect(taskInfo("my-task").metric).toBe("acc");
  });
});
