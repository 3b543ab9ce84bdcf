import { describe, expect, it } from "vitest";
import { aggregate, formatMeanStd, meanStd } from "../../src/report/aggregate.ts";
import { handExample, rec } from "./fixtures.ts";

const find = (cells: ReturnType<typeof aggregate>, method: string, task: string) =>
  cells.find((c) => c.method === method && c.task === task);

describe("aggregation (docs/protocol.md §1.2)", () => {
  it("picks the best dev configuration per seed (F1 for MRPC, ties → first) and averages test over seeds", () => {
    const cells = aggregate(handExample());
    expect(cells.length).toBe(3);
    const lstsq = find(cells, "kernel:sgd:lstsq", "MRPC");
    expect(lstsq?.metric).toBe("f1");
    expect(lstsq?.seeds.map((s) => [s.seed, s.record.hyperparameters.reg, s.test])).toEqual([
      [13, 0.01, 0.65],
      [21, 0.01, 0.75],
      [42, 0, 0.8],
    ]);
    expect(lstsq?.mean).toBeCloseTo(0.733333333, 8);
    expect(lstsq?.std).toBeCloseTo(0.0623609564, 8);
    expect(formatMeanStd(lstsq?.mean ?? 0, lstsq?.std ?? 0)).toBe("73.3 (6.2)");
    const ft = find(cells, "ft:sgd", "GLUE-SST-2");
    expect(ft?.metric).toBe("acc");
    expect(formatMeanStd(ft?.mean ?? 0, ft?.std ?? 0)).toBe("88.0 (2.0)");
    expect(find(cells, "kernel:sgd:logistic", "MRPC")?.seeds.length).toBe(1);
  });

  it("a record's own metric (a custom task's) decides, not the task name", () => {
    const mk = (reg: number, dev: Record<string, number>, test: Record<string, number>) => ({
      ...rec("my-task", "kernel:sgd:lstsq", 13, { reg }, dev, test),
      metric: "f1" as const,
    });
    // By dev acc reg 0 wins, by dev F1 reg 0.1.
    const cells = aggregate([
      mk(0, { acc: 0.9, f1: 0.5 }, { acc: 0.8, f1: 0.4 }),
      mk(0.1, { acc: 0.6, f1: 0.7 }, { acc: 0.7, f1: 0.6 }),
    ]);
    const cell = find(cells, "kernel:sgd:lstsq", "my-task");
    expect(cell?.metric).toBe("f1");
    expect(cell?.seeds.map((s) => [s.record.hyperparameters.reg, s.test])).toEqual([[0.1, 0.6]]);
  });

  it("the tie-break does not depend on record order", () => {
    const shuffled = handExample().reverse();
    const lstsq = find(aggregate(shuffled), "kernel:sgd:lstsq", "MRPC");
    expect(lstsq?.seeds[0].record.hyperparameters.reg).toBe(0.01);
  });

  it("pooling solvers chooses the solver on dev", () => {
    const cells = aggregate(handExample(), { poolSolvers: true });
    const pooled = find(cells, "kernel:sgd", "MRPC");
    expect(pooled?.seeds.map((s) => s.record.method)).toEqual([
      "kernel:sgd:logistic",
      "kernel:sgd:lstsq",
      "kernel:sgd:lstsq",
    ]);
    expect(formatMeanStd(pooled?.mean ?? 0, pooled?.std ?? 0)).toBe("68.3 (13.1)");
  });

  it("keeps k values apart", () => {
    const cells = aggregate([
      rec("mr", "ft:adam", 13, {}, { acc: 0.5 }, { acc: 0.5 }, 16),
      rec("mr", "ft:adam", 13, {}, { acc: 0.5 }, { acc: 0.7 }, 64),
    ]);
    expect(cells.map((c) => [c.k, c.mean])).toEqual([
      [16, 0.5],
      [64, 0.7],
    ]);
  });

  it("keeps models apart when the records hold several", () => {
    const a = rec("mr", "ft:adam", 13, {}, { acc: 0.9 }, { acc: 0.6 });
    const b = {
      ...rec("mr", "ft:adam", 13, {}, { acc: 0.5 }, { acc: 0.8 }),
      model: { id: "bert-base", weightsHash: "x" },
    };
    const cells = aggregate([a, b]);
    expect(cells.map((c) => [c.method, c.mean])).toEqual([
      ["ft:adam@roberta-base", 0.6],
      ["ft:adam@bert-base", 0.8],
    ]);
  });

  it("names the record when the task's metric is missing", () => {
    const r = rec("QQP", "ft:adam", 13, {}, { acc: 0.5 }, { acc: 0.5 });
    expect(() => aggregate([r])).toThrow(/QQP k=16 seed=13 ft:adam\) has no dev metric "f1" \(has: acc\)/);
  });

  it("population std (ddof = 0)", () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(1.25) });
    expect(meanStd([0.7])).toEqual({ mean: 0.7, std: 0 });
  });
});
