import { describe, expect, it } from "vitest";
import { logOddsCrossEntropy, meanSquaredError } from "../../src/solvers/solve.ts";
import { binaryClassTargets, targetsFromLabels } from "../../src/solvers/targets.ts";

describe("solver targets and losses", () => {
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
