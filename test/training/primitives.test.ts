import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { accuracy, argmaxRows, classificationMetrics, f1Binary } from "../../src/data/metrics.ts";
import { clipGradNorm } from "../../src/training/clip.ts";
import { Rng } from "../../src/training/rng.ts";
import { EpochSampler } from "../../src/training/sampler.ts";
import { linearWarmupFactor } from "../../src/training/schedule.ts";
import { openSnapshot, writeSnapshot } from "../../src/training/snapshot.ts";

describe("clipGradNorm (torch clip_grad_norm_)", () => {
  it("scales all gradients to the max norm when over it and returns the pre-clip norm", () => {
    const a = Float32Array.from([3, 0]);
    const b = Float32Array.from([0, 4]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 12);
    // torch's float32 order: reciprocal(total_norm + 1e-6) · max_norm, each step rounded to float32.
    const f = Math.fround;
    const coef = f(f(1 / f(5 + f(1e-6))) * 1);
    expect(Array.from(a)).toEqual([Math.fround(3 * coef), 0]);
    expect(Array.from(b)).toEqual([0, Math.fround(4 * coef)]);
    const after = Math.hypot(a[0], b[1]);
    expect(after).toBeCloseTo(1, 6);
  });
  it("leaves gradients under the max norm untouched, and does nothing when disabled", () => {
    const a = Float32Array.from([0.3, -0.4]);
    expect(clipGradNorm([a], 1)).toBeCloseTo(0.5, 7);
    expect(Array.from(a)).toEqual([Math.fround(0.3), Math.fround(-0.4)]);
    const c = Float32Array.from([30, 40]);
    expect(clipGradNorm([c], 0)).toBe(50);
    expect(Array.from(c)).toEqual([30, 40]);
  });
});

describe("linear schedule with warmup (HF get_linear_schedule_with_warmup)", () => {
  it("warms up linearly, then decays linearly to 0 at the total", () => {
    const f = (s: number) => linearWarmupFactor(s, 4, 12);
    expect([0, 1, 2, 3, 4, 8, 11, 12, 13].map(f)).toEqual([0, 0.25, 0.5, 0.75, 1, 0.5, 0.125, 0, 0]);
  });
  it("without warmup starts at 1 and reaches 1/T at the last of T steps", () => {
    expect(linearWarmupFactor(0, 0, 1000)).toBe(1);
    expect(linearWarmupFactor(999, 0, 1000)).toBeCloseTo(1 / 1000, 15);
    expect(linearWarmupFactor(1000, 0, 1000)).toBe(0); // the reference's extra step runs at lr 0
  });
});

describe("Rng (xoshiro128** seeded by splitmix32)", () => {
  it("matches an independent Python implementation", () => {
    const py = `
M=0xffffffff
def rotl(x,k): return ((x<<k)|(x>>(32-k)))&M
def seed(sd, stream):
    x=(sd ^ ((stream+1)*0x9e3779b9 & M))&M
    s=[]
    for _ in range(4):
        x=(x+0x9e3779b9)&M; z=x
        z=((z^(z>>16))*0x85ebca6b)&M
        z=((z^(z>>13))*0xc2b2ae35)&M
        s.append((z^(z>>16))&M)
    return s
def nxt(s):
    r=(rotl((s[1]*5)&M,7)*9)&M
    t=(s[1]<<9)&M
    s[2]^=s[0]; s[3]^=s[1]; s[1]^=s[2]; s[0]^=s[3]; s[2]^=t; s[3]=rotl(s[3],11)
    return r
for sd,st in [(0,0),(42,1),(123456789,2),(4294967295,7)]:
    s=seed(sd,st); print(' '.join(str(nxt(s)) for _ in range(6)))
`;
    const want = execFileSync("python3", ["-c", py]).toString().trim().split("\n");
    const got = [
      [0, 0],
      [42, 1],
      [123456789, 2],
      [4294967295, 7],
    ].map(([sd, st]) => {
      const r = new Rng(sd, st);
      return Array.from({ length: 6 }, () => r.nextU32()).join(" ");
    });
    expect(got).toEqual(want);
  });
  it("continues identically after its state is saved and restored", () => {
    const a = new Rng(7);
    for (let i = 0; i < 10; i++) a.nextU32();
    const b = new Rng(999);
    b.setState(a.getState());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(Array.from({ length: 5 }, () => a.nextU32()));
    expect(() => new Rng(-1)).toThrow(/seed must be an integer/);
    expect(() => b.setState([1, 2])).toThrow(/four uint32/);
  });
  it("nextBelow is roughly uniform", () => {
    const r = new Rng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.nextBelow(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
  });
});

describe("EpochSampler", () => {
  it("yields each epoch as a permutation cut into ⌈n/bs⌉ batches, the last one short", () => {
    const s = new EpochSampler(10, 4, 5);
    expect(s.batchesPerEpoch).toBe(3);
    const epochs: number[][] = [[], []];
    const ends: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const b = s.next();
      epochs[b.epoch - 1].push(...b.indices);
      ends.push(b.epochEnd);
      expect(b.indices.length).toBe(i % 3 === 2 ? 2 : 4);
    }
    expect(ends).toEqual([false, false, true, false, false, true]);
    for (const e of epochs) expect([...e].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochs[0]).not.toEqual(epochs[1]);
  });
  it("resumes mid-epoch from its state", () => {
    const a = new EpochSampler(7, 3, 1);
    a.next();
    a.next();
    const b = new EpochSampler(7, 3, 1);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    for (let i = 0; i < 5; i++) expect(b.next()).toEqual(a.next());
    expect(() => new EpochSampler(8, 3, 1).setState(a.getState())).toThrow(/does not fit/);
  });
});

describe("metrics", () => {
  it("argmax (first on ties), accuracy and binary F1 with positive class 1", () => {
    expect(Array.from(argmaxRows([1, 2, 3, 3, 0, -1], 2))).toEqual([1, 0, 0]);
    const preds = [1, 1, 0, 0, 1, 0];
    const labels = [1, 0, 0, 1, 1, 1];
    // tp = 2, fp = 1, fn = 2 → F1 = 4 / 7
    expect(f1Binary(preds, labels)).toBeCloseTo(4 / 7, 15);
    expect(accuracy(preds, labels)).toBeCloseTo(3 / 6, 15);
    expect(f1Binary([0, 0], [0, 0])).toBe(0);
    expect(classificationMetrics(preds, labels, "f1")).toEqual({ acc: 0.5, f1: 4 / 7 });
    expect(classificationMetrics(preds, labels, "acc")).toEqual({ acc: 0.5 });
  });
});

describe("training snapshots", () => {
  it("round-trip metadata and tensors in place, leaving no temp file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-snap-"));
    const path = join(dir, "state.snap");
    const t = new Map([
      ["a", Float32Array.from([1, -2.5, 3e-20])],
      ["b", new Float32Array(0)],
      ["c", Float32Array.from({ length: 1001 }, (_, i) => i / 7)],
    ]);
    await writeSnapshot(path, { step: 12, note: "ü" }, t);
    await writeSnapshot(path, { step: 13, note: "ü" }, t); // overwrite
    expect(readdirSync(dir)).toEqual(["state.snap"]);
    const snap = await openSnapshot(path);
    expect(snap.meta).toEqual({ step: 13, note: "ü" });
    expect(snap.names).toEqual(["a", "b", "c"]);
    const back = new Map([...t].map(([k, a]) => [k, new Float32Array(a.length)]));
    await snap.readInto((n) => back.get(n));
    for (const [k, a] of t) expect(back.get(k)).toEqual(a);
    await expect(snap.readInto(() => new Float32Array(2))).rejects.toThrow(/'a' has 3 elements, this run has 2/);
    writeFileSync(join(dir, "bad.snap"), "garbage-garbage");
    await expect(openSnapshot(join(dir, "bad.snap"))).rejects.toThrow(/bad\.snap: not an entk training snapshot/);
  });
});
