import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpointInto, replaceCheckpoint } from "../../src/training/checkpoint-dir.ts";
import { Rng } from "../../src/training/rng.ts";
import { EpochSampler } from "../../src/training/sampler.ts";
import { type CurvePoint, finetune } from "../../src/training/trainer.ts";
import { npyCheckpointIO, separableData, ToyModel } from "./toy-model.ts";

const tmp = () => mkdtemp(join(tmpdir(), "entk-ft-"));
const readCurve = (p: string) =>
  readFileSync(p, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CurvePoint);

function setup(dropout = 0, C = 2, n = 24) {
  const { features, examples } = separableData(n, C, 5, 3);
  return { model: new ToyModel(features, C, dropout), train: examples.slice(0, 16), dev: examples.slice(16) };
}

describe("finetune", () => {
  it("one SGD step equals θ − lr·clip(∇L) on the batch and dropout seed it drew", async () => {
    const { model, train, dev } = setup(0.1);
    const ref = new ToyModel(model.features, 2, 0.1);
    const before = new Map([...model.params].map(([k, a]) => [k, Float64Array.from(a)]));
    // The batch and dropout seed the trainer must use (seeded generators, independent of the model).
    const batch = new EpochSampler(16, 4, 9).next().indices.map((i) => train[i]);
    const seed = new Rng(9, 2).nextU32();
    const { grads } = await ref.lossAndGrad(
      batch.map((e) => e.input),
      batch.map((e) => e.label),
      { dropoutSeed: seed },
    );
    let sq = 0;
    for (const g of grads.values()) for (const v of g) sq += v * v;
    const maxGradNorm = Math.sqrt(sq) / 2; // so that clipping is active
    const coef = maxGradNorm / (Math.sqrt(sq) + 1e-6);
    const lr = 0.3;
    await finetune({
      model,
      train,
      dev,
      optimizer: "sgd",
      lr,
      batchSize: 4,
      steps: 1,
      maxGradNorm,
      seed: 9,
      metric: "acc",
      outDir: await tmp(),
      checkpointIO: npyCheckpointIO,
      quiet: true,
    });
    for (const [k, p0] of before) {
      const g = grads.get(k)!;
      const got = model.params.get(k)!;
      p0.forEach((v, i) => {
        expect(got[i]).toBeCloseTo(v - lr * coef * g[i], 6);
      });
    }
  });

  for (const optimizer of ["sgd", "signgd", "adam"] as const) {
    it(`${optimizer}: loss decreases on a separable task and dev accuracy reaches 1`, async () => {
      const { model, train, dev } = setup(0.1, 3, 30);
      const lr = { sgd: 0.5, signgd: 0.02, adam: 0.05 }[optimizer];
      const out = await tmp();
      const r = await finetune({
        model,
        train,
        dev,
        optimizer,
        lr,
        batchSize: 4,
        steps: 60,
        evalEvery: 20,
        seed: 1,
        metric: "acc",
        outDir: out,
        checkpointIO: npyCheckpointIO,
        quiet: true,
      });
      const curve = readCurve(r.curvePath);
      const mean = (xs: CurvePoint[]) => xs.reduce((a, p) => a + p.loss, 0) / xs.length;
      expect(mean(curve.slice(-10))).toBeLessThan(0.5 * mean(curve.slice(0, 10)));
      expect(r.dev.acc).toBe(1);
      expect(r.method).toBe(`ft:${optimizer}`);
    });
  }

  it("evaluates every N steps, keeps the first best by the metric, reloads it and evaluates test", async () => {
    const { model, train, dev } = setup(0.1);
    const out = await tmp();
    const r = await finetune({
      model,
      train,
      dev,
      test: dev.slice(0, 5),
      optimizer: "adam",
      lr: 0.01,
      batchSize: 3,
      steps: 25,
      evalEvery: 5,
      warmupSteps: 5,
      seed: 2,
      metric: "f1",
      outDir: out,
      checkpointIO: npyCheckpointIO,
      quiet: true,
      record: { task: "toy" },
    });
    const curve = readCurve(join(out, "curve.jsonl"));
    expect(curve.map((p) => p.step)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(curve.filter((p) => p.dev).map((p) => p.step)).toEqual([5, 10, 15, 20, 25]);
    // lr follows the warmup schedule: step s uses lr·factor(s − 1)
    expect(curve.slice(0, 7).map((p) => p.lr)).toEqual([0, 0.002, 0.004, 0.006, 0.008, 0.01, 0.01 * (19 / 20)]);
    const evals = curve.filter((p) => p.dev);
    const bestVal = Math.max(...evals.map((p) => p.dev!.f1));
    expect(r.bestStep).toBe(evals.find((p) => p.dev!.f1 === bestVal)!.step);
    expect(r.dev).toEqual(evals.find((p) => p.step === r.bestStep)!.dev);
    expect(r.test).toEqual({ acc: expect.any(Number), f1: expect.any(Number) });
    expect(r.task).toBe("toy");
    // after the run, the model holds the best checkpoint's parameters
    const fresh = new ToyModel(model.features, 2);
    await loadCheckpointInto(npyCheckpointIO, join(out, "best"), fresh.params);
    expect(fresh.params).toEqual(model.params);
    const saved = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(saved.result).toEqual(r);
  });

  it("with evalEvery 'epoch' evaluates at complete epoch ends only (as the reference)", async () => {
    const { model, train, dev } = setup();
    const r = await finetune({
      model,
      train: train.slice(0, 10),
      dev,
      optimizer: "sgd",
      lr: 0.1,
      batchSize: 4,
      steps: 10,
      evalEvery: "epoch",
      seed: 3,
      metric: "acc",
      outDir: await tmp(),
      checkpointIO: npyCheckpointIO,
      quiet: true,
    });
    const curve = readCurve(r.curvePath);
    expect(curve.filter((p) => p.dev).map((p) => p.step)).toEqual([3, 6, 9]);
    expect(curve.map((p) => p.epoch)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
  });

  it("evaluates the final model when no evaluation point was reached", async () => {
    const { model, train, dev } = setup();
    const r = await finetune({
      ...{ model, train, dev, optimizer: "sgd", lr: 0.1, batchSize: 4, steps: 3, evalEvery: 100, seed: 3 },
      ...{ metric: "acc", outDir: await tmp(), checkpointIO: npyCheckpointIO, quiet: true },
    });
    expect(r.bestStep).toBe(3);
  });

  it("rejects bad options with a clear message", async () => {
    const { model, train, dev } = setup();
    const base = {
      ...{ model, train, dev, optimizer: "sgd" as const, lr: 0.1, batchSize: 4, steps: 3, seed: 3 },
      ...{ metric: "acc" as const, outDir: await tmp(), checkpointIO: npyCheckpointIO, quiet: true },
    };
    await expect(finetune({ ...base, steps: 0 })).rejects.toThrow(/steps must be a positive integer/);
    await expect(finetune({ ...base, evalEvery: 2.5 })).rejects.toThrow(/evalEvery must be/);
    await expect(finetune({ ...base, dev: [] })).rejects.toThrow(/dev set is empty/);
    const badLabel = [{ input: train[0].input, label: 2 }];
    await expect(finetune({ ...base, train: badLabel })).rejects.toThrow(/train example 0 has label 2/);
    await expect(finetune({ ...base, optimizer: "rmsprop" as "sgd" })).rejects.toThrow(/unknown kind 'rmsprop'/);
  });
});

describe("checkpoint directory", () => {
  it("round-trips: logits are equal before saving and after loading into another model", async () => {
    const { model, dev } = setup();
    const dir = join(await tmp(), "best");
    await replaceCheckpoint(npyCheckpointIO, dir, model.params);
    const before = await model.logits(dev.map((e) => e.input));
    const other = new ToyModel(model.features, 2, 0, (_, i) => i * 0.01);
    expect(await other.logits(dev.map((e) => e.input))).not.toEqual(before);
    await loadCheckpointInto(npyCheckpointIO, dir, other.params);
    expect(await other.logits(dev.map((e) => e.input))).toEqual(before);
    // replacing keeps exactly one complete directory
    await replaceCheckpoint(npyCheckpointIO, dir, other.params);
    const missing = new Map([...model.params, ["extra.weight", new Float32Array(1)]]);
    await expect(loadCheckpointInto(npyCheckpointIO, dir, missing)).rejects.toThrow(/lacks parameter 'extra.weight'/);
  });
});
