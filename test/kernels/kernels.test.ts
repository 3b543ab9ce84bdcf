import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { slicedLayout, sliceRows } from "../../src/kernels/block.ts";
import { computeKernels } from "../../src/kernels/compute.ts";
import { gradDim } from "../../src/kernels/params.ts";
import type { FactorSource, ParamFilter } from "../../src/kernels/types.ts";
import type { ExampleGradFactors } from "../../src/model/grad-factors.ts";
import { expectOptionRejection } from "../helpers/option-error.ts";
import { bruteKernel, denseGradients, syntheticExample, syntheticParams } from "./synthetic.ts";

const ALL = ["sgd", "signgd", "asymmetric_signgd"] as const;
const lengths = [3, 5, 2, 4, 6, 1, 3];
const trainSet = (C = 2) => lengths.slice(0, 4).map((T, i) => syntheticExample(100 + i, T, C));
const devSet = (C = 2) => lengths.map((T, i) => syntheticExample(200 + i, T + 1, C));

/** slicedLayout's cut of the synthetic examples' first layer (C = 2, 6 → 10, signed, 1 MiB of work space). */
const layoutOf = (tr: ExampleGradFactors[], ev: ExampleGradFactors[]) =>
  slicedLayout(
    tr.map((e) => e.linears[0].T),
    ev.map((e) => e.linears[0].T),
    2,
    6,
    10,
    true,
    2 ** 20,
  );

function expectClose(got: Float64Array, want: Float64Array, rel = 1e-5): void {
  expect(got.length).toBe(want.length);
  let scale = 1;
  for (const w of want) scale = Math.max(scale, Math.abs(w));
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i] - want[i]) > rel * scale) expect(got[i]).toBe(want[i]);
}

function expectBrute(
  res: Awaited<ReturnType<typeof computeKernels>>,
  split: string,
  tr: ExampleGradFactors[],
  ev: ExampleGradFactors[],
  filter: ParamFilter = {},
) {
  const k = res.kernels[split];
  expectClose(k.sgd!, bruteKernel(tr, ev, false, false, filter));
  // Sign kernels are integer counts: exact.
  expect(Array.from(k.signgd!)).toEqual(Array.from(bruteKernel(tr, ev, true, true, filter)));
  expectClose(k.asymmetric_signgd!, bruteKernel(tr, ev, true, false, filter));
  expectClose(k.asymmetric_signgd_flipped!, bruteKernel(tr, ev, false, true, filter));
}

describe("computeKernels on synthetic factors", () => {
  for (const strategy of ["materialize", "gram", "auto"] as const)
    it(`equals brute force from dense gradients (${strategy}, small blocks forcing slices)`, async () => {
      const tr = trainSet();
      const dev = devSet();
      // 1.5 KB work space: materialized slices of 1–2 output rows; train blocks of 3 (4 = 3 + 1); eval blocks of 3.
      const planOverride = { workBytes: 1500, trainBlock: 3, evalBlock: 3 };
      const res = await computeKernels(
        tr,
        { dev },
        { formulas: [...ALL], strategy, memoryBytes: 2 ** 30, planOverride, quiet: true },
      );
      expect(sliceRows(6, 10, (3 + 3) * 2, true, 1500)).toBe(1);
      expect(sliceRows(6, 10, (1 + 3) * 2, false, 1500)).toBe(2);
      expect(res.sizes).toEqual({ train: 4, dev: 7 });
      expectBrute(res, "train", tr, tr);
      expectBrute(res, "dev", tr, dev);
    });

  it("in-process and spread over worker threads (slice-workers.ts), both equal brute force, even run at once", async () => {
    const tr = trainSet();
    const dev = devSet();
    // 1.5 KB work space: slices of 1–2 rows, so three workers each get a range of several. The three jobs run
    // concurrently in this process, as a sweep's jobs may: they share the contraction's reused buffers (two of them
    // the workers' shared one).
    const opts = { formulas: [...ALL], memoryBytes: 2 ** 30, quiet: true, planOverride: { workBytes: 1500 } };
    const runs = await Promise.all([1, 2, 3].map((workers) => computeKernels(tr, { dev }, { ...opts, workers })));
    for (const res of runs) {
      expectBrute(res, "train", tr, tr);
      expectBrute(res, "dev", tr, dev);
    }
  });

  it("train chunks cut into length groups (slicedLayout) still equal brute force, rows back in train order", async () => {
    // 20 train examples of mixed lengths: ceil(20 / MIN_TRAIN_GROUP) = 3 length groups, stacked out of order.
    const tr = Array.from({ length: 20 }, (_, i) => syntheticExample(300 + i, 1 + ((i * 7) % 6), 2));
    const dev = devSet();
    const { trainGroups } = layoutOf(tr, dev);
    expect(trainGroups.length).toBe(3);
    expect(trainGroups.flat()).not.toEqual(tr.map((_, i) => i));
    const opts = { strategy: "materialize", memoryBytes: 2 ** 30, quiet: true } as const;
    const res = await computeKernels(tr, { dev }, { ...opts, formulas: [...ALL] });
    expectBrute(res, "dev", tr, dev);
    // One train variant only: the groups stacked without the [P; S] block (P rows, or their signs alone).
    const sgd = await computeKernels(tr, { dev }, { ...opts, formulas: ["sgd"] });
    expectClose(sgd.kernels.dev.sgd!, bruteKernel(tr, dev, false, false));
    const sign = await computeKernels(tr, { dev }, { ...opts, formulas: ["signgd"] });
    expect(Array.from(sign.kernels.dev.signgd!)).toEqual(Array.from(bruteKernel(tr, dev, true, true)));
  });

  it("eval blocks cut into length groups, stacked for the Gemms, equal brute force, columns back in eval order", async () => {
    // 70 eval examples of mixed lengths: ceil(70 / MIN_GROUP) = 3 groups, each padded to its own longest, whose rows
    // the Gemms see stacked; each group's columns must land on its own examples.
    const tr = trainSet();
    const dev = Array.from({ length: 70 }, (_, i) => syntheticExample(500 + i, 1 + ((i * 5) % 7), 2));
    const { groups } = layoutOf(tr, dev);
    expect(groups.length).toBe(3);
    expect(groups.flat()).not.toEqual(dev.map((_, i) => i));
    const opts = { strategy: "materialize", memoryBytes: 2 ** 30, quiet: true } as const;
    for (const workers of [1, 2]) {
      const res = await computeKernels(tr, { dev }, { ...opts, formulas: [...ALL], workers });
      expectBrute(res, "dev", tr, dev);
    }
  });

  it("materialize and Gram strategies agree on sgd with a large budget", async () => {
    const tr = trainSet();
    const dev = devSet();
    const a = await computeKernels(
      tr,
      { dev },
      { formulas: ["sgd"], strategy: "materialize", memoryBytes: 2 ** 30, quiet: true },
    );
    const b = await computeKernels(
      tr,
      { dev },
      { formulas: ["sgd"], strategy: "gram", memoryBytes: 2 ** 30, quiet: true },
    );
    expectClose(a.kernels.dev.sgd!, b.kernels.dev.sgd!);
    expect(a.kernels.dev.signgd).toBeUndefined();
    expectClose(a.kernels.dev.sgd!, bruteKernel(tr, dev, false, false));
  });

  it("each formula alone (its own Gemm set: stacked train side or not) equals brute force", async () => {
    const tr = trainSet();
    const dev = devSet();
    const want = {
      sgd: bruteKernel(tr, dev, false, false),
      signgd: bruteKernel(tr, dev, true, true),
      asymmetric_signgd: bruteKernel(tr, dev, true, false),
      asymmetric_signgd_flipped: bruteKernel(tr, dev, false, true),
    };
    for (const formulas of [["sgd"], ["signgd"], ["asymmetric_signgd"], ["sgd", "asymmetric_signgd"]] as const) {
      const res = await computeKernels(
        tr,
        { dev },
        { formulas: [...formulas], strategy: "materialize", memoryBytes: 2 ** 30, quiet: true },
      );
      const got = res.kernels.dev;
      const names = Object.keys(got).sort();
      const expected = formulas.flatMap((f) => (f === "asymmetric_signgd" ? [f, `${f}_flipped`] : [f])).sort();
      expect(names).toEqual(expected);
      for (const k of names) expectClose(got[k as keyof typeof got]!, want[k as keyof typeof want]);
    }
  });

  it("sgd train–train is symmetric PSD; flipped train–train is the transpose; signgd diagonal counts nonzeros", async () => {
    const tr = trainSet();
    const res = await computeKernels(tr, {}, { formulas: [...ALL], memoryBytes: 2 ** 30, quiet: true });
    const n = tr.length * 2;
    const K = res.kernels.train;
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++) {
        expect(Math.abs(K.sgd![r * n + c] - K.sgd![c * n + r])).toBeLessThan(1e-9 * Math.abs(K.sgd![r * n + r]) + 1e-9);
        expect(K.asymmetric_signgd_flipped![r * n + c]).toBeCloseTo(K.asymmetric_signgd![c * n + r], 4);
        expect(K.signgd![r * n + c]).toBe(K.signgd![c * n + r]);
      }
    // PSD: Cholesky of the sgd kernel (plus a tiny ridge for rounding) succeeds.
    const L = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let s = K.sgd![i * n + j] + (i === j ? 1e-6 * K.sgd![i * n + i] : 0);
        for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
        if (i === j) {
          expect(s).toBeGreaterThan(0);
          L[i * n + i] = Math.sqrt(s);
        } else L[i * n + j] = s / L[j * n + j];
      }
    for (const [i, ex] of tr.entries())
      for (const [c, g] of denseGradients(ex).entries()) {
        const nnz = g.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
        expect(K.signgd![(i * 2 + c) * n + i * 2 + c]).toBe(nnz);
      }
  });

  it("binary mode (C = 1, f = f₁ − f₀) equals the difference-of-logits kernel", async () => {
    const diff = (ex: ExampleGradFactors): ExampleGradFactors => {
      const d = (v: Float32Array) => {
        const h = v.length / 2;
        return Float32Array.from({ length: h }, (_, k) => v[h + k] - v[k]);
      };
      return {
        C: 1,
        zero: ex.zero,
        linears: ex.linears.map((l) => ({ ...l, delta: d(l.delta) })),
        dense: ex.dense.map((x) => ({ ...x, values: d(x.values) })),
        sparse: ex.sparse.map((x) => ({ ...x, values: d(x.values) })),
      };
    };
    const tr = trainSet();
    const dev = devSet();
    const multi = await computeKernels(tr, { dev }, { formulas: ["sgd"], memoryBytes: 2 ** 30, quiet: true });
    const bin = await computeKernels(
      tr.map(diff),
      { dev: dev.map(diff) },
      { formulas: [...ALL], memoryBytes: 2 ** 30, quiet: true },
    );
    expect(bin.C).toBe(1);
    const K = multi.kernels.dev.sgd!;
    const at = (i: number, c: number, j: number, c2: number) => K[((i * 2 + c) * dev.length + j) * 2 + c2];
    const want = new Float64Array(tr.length * dev.length);
    for (let i = 0; i < tr.length; i++)
      for (let j = 0; j < dev.length; j++)
        want[i * dev.length + j] = at(i, 1, j, 1) - at(i, 1, j, 0) - at(i, 0, j, 1) + at(i, 0, j, 0);
    expectClose(bin.kernels.dev.sgd!, want);
    expectBrute(bin, "dev", tr.map(diff), dev.map(diff));
  });

  const filters: [string, ParamFilter][] = [
    ["exclude embeddings", { excludeEmbeddings: true }],
    ["exclude head", { excludeHead: true }],
    ["only biases", { onlyBiases: true }],
    ["exclude embeddings and head", { excludeEmbeddings: true, excludeHead: true }],
  ];
  for (const [label, filter] of filters)
    it(`parameter subset: ${label}`, async () => {
      const tr = trainSet();
      const dev = devSet().slice(0, 3);
      const res = await computeKernels(
        tr,
        { dev },
        { formulas: [...ALL], filter, params: syntheticParams(), memoryBytes: 2 ** 30, quiet: true },
      );
      expectBrute(res, "dev", tr, dev, filter);
      expect(res.gradDim).toBe(denseGradients(tr[0], filter)[0].length);
    });

  it("grad_dim counts included parameters, unused ones too", () => {
    const p = syntheticParams();
    const all = p.reduce((a, x) => a + x.size, 0);
    expect(gradDim(p)).toBe(all);
    expect(gradDim(p, { onlyBiases: true })).toBe(6 + 6 + 6 + 10 + 6 + 6 + 23);
    expect(gradDim(p, { excludeEmbeddings: true })).toBe(all - 23 * 6 - 16 * 6 - 12);
    // BERT head: cls.predictions.*
    const bert = [
      { name: "cls.predictions.transform.dense.weight", shape: [2], size: 2 },
      { name: "bert.pooler.dense.bias", shape: [3], size: 3 },
    ];
    expect(gradDim(bert, { excludeHead: true })).toBe(3);
  });

  it("is invariant to block sizes, padding and eval order (up to the permutation)", async () => {
    const tr = trainSet();
    const dev = devSet();
    const big = await computeKernels(tr, { dev }, { formulas: [...ALL], memoryBytes: 2 ** 30, quiet: true });
    const perm = [6, 2, 0, 5, 1, 3, 4];
    const small = await computeKernels(
      tr,
      { dev: perm.map((j) => dev[j]) },
      {
        formulas: [...ALL],
        memoryBytes: 2 ** 30,
        maxEvalBlock: 2,
        planOverride: { workBytes: 2000, trainBlock: 3 },
        quiet: true,
      },
    );
    expect(small.plan.evalBlock).toBe(2);
    expect(big.plan.evalBlock).toBe(7);
    for (const name of ["sgd", "signgd", "asymmetric_signgd", "asymmetric_signgd_flipped"] as const) {
      const a = big.kernels.dev[name]!;
      const b = small.kernels.dev[name]!;
      const want = new Float64Array(b.length);
      for (let r = 0; r < tr.length * 2; r++)
        perm.forEach((j, jj) => {
          for (let c = 0; c < 2; c++) want[r * 14 + jj * 2 + c] = a[r * 14 + j * 2 + c];
        });
      expectClose(b, want);
    }
  });

  it("says the budget is too small after the first chunk, before contracting or differentiating the rest", async () => {
    const tr = trainSet();
    const dev = devSet();
    const loads: string[] = [];
    const counted = (name: string, exs: ExampleGradFactors[]): FactorSource => ({
      size: exs.length,
      load: async (s, e) => {
        loads.push(`${name}:${s}-${e}`);
        return exs.slice(s, e);
      },
    });
    await expectOptionRejection(
      computeKernels(
        counted("train", tr),
        { dev: counted("dev", dev) },
        { formulas: ["sgd"], memoryBytes: 5000, quiet: true },
      ),
      "memory",
      /^memory .* is too small: the model and runtime already use .* MiB, the 4 train examples' gradient factors take .*, one eval example .*, the smallest contraction work space .* and the reserve 128\.0 MiB/,
    );
    expect(loads).toEqual(["train:0-4"]);
  });

  it("stops at the next block when its signal aborts; the rerun resumes from the blocks already cached", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-kabort-"));
    try {
      const tr = trainSet();
      const dev = devSet();
      const ac = new AbortController();
      let devLoads = 0;
      const keyed = (name: string, exs: ExampleGradFactors[]): FactorSource => ({
        size: exs.length,
        keys: exs.map((_, i) => `${name}-${i}`),
        load: async (s, e) => {
          if (name === "dev" && ++devLoads === 2) ac.abort(); // while the second dev block is computed
          return exs.slice(s, e);
        },
      });
      const opts = { formulas: [...ALL], memoryBytes: 2 ** 30, maxEvalBlock: 2, cacheDir: dir, quiet: true };
      await expect(
        computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, { ...opts, signal: ac.signal }),
      ).rejects.toThrow(/abort/i);
      expect(devLoads).toBe(2); // the third dev block never started
      const resumed = await computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, opts);
      // train: 2 blocks, dev: 4; the two train blocks and the two dev blocks finished before the abort are reused.
      expect(resumed.blocks).toEqual({ cached: 4, computed: 2 });
      expectBrute(resumed, "dev", tr, dev);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("caches finished blocks: a rerun is a cache hit, an interrupted run resumes, corrupt blocks are recomputed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-kcache-"));
    try {
      const tr = trainSet();
      const dev = devSet();
      const loads: string[] = [];
      const keyed = (name: string, exs: ExampleGradFactors[]): FactorSource => ({
        size: exs.length,
        keys: exs.map((_, i) => `${name}-${i}`),
        load: async (s, e) => {
          for (let i = s; i < e; i++) loads.push(`${name}${i}`);
          return exs.slice(s, e);
        },
      });
      const opts = { formulas: [...ALL], memoryBytes: 2 ** 30, maxEvalBlock: 2, cacheDir: dir, quiet: true };
      const first = await computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, opts);
      expect(first.blocks).toEqual({ cached: 0, computed: 2 + 4 });
      expect(loads).toEqual(["tr0", "tr1", "tr2", "tr3", "dev0", "dev1", "dev2", "dev3", "dev4", "dev5", "dev6"]);
      expectBrute(first, "dev", tr, dev);
      // Rerun of a finished job: assembled from the cache, no gradient computed at all.
      loads.length = 0;
      const again = await computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, opts);
      expect(again.blocks).toEqual({ cached: 6, computed: 0 });
      expect(loads).toEqual([]);
      expect(Array.from(again.kernels.dev.sgd!)).toEqual(Array.from(first.kernels.dev.sgd!));
      expect(Array.from(again.kernels.train.signgd!)).toEqual(Array.from(first.kernels.train.signgd!));
      // "Interrupt": lose the run manifest and two blocks, leave a half-written block and a stray temp file.
      for (const f of readdirSync(dir).filter((f) => f.endsWith(".run.json"))) rmSync(join(dir, f));
      const files = readdirSync(dir)
        .filter((f) => f.endsWith(".kblock"))
        .sort();
      rmSync(join(dir, files[0]));
      writeFileSync(join(dir, files[1]), Buffer.alloc(100));
      writeFileSync(join(dir, `.${files[2]}.123.abcd.tmp`), Buffer.alloc(10));
      loads.length = 0;
      const resumed = await computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, opts);
      expect(resumed.blocks).toEqual({ cached: 4, computed: 2 });
      expect(loads.filter((l) => l.startsWith("dev")).length).toBeLessThanOrEqual(4);
      for (const name of ["sgd", "signgd", "asymmetric_signgd", "asymmetric_signgd_flipped"] as const)
        expect(Array.from(resumed.kernels.dev[name]!)).toEqual(Array.from(first.kernels.dev[name]!));
      // In-memory factors are keyed by content; a different train set → different keys → nothing reused.
      const mem = await computeKernels(tr, { dev }, opts);
      expect(mem.blocks.cached).toBe(0);
      expect((await computeKernels(tr, { dev }, opts)).blocks).toEqual({ cached: 6, computed: 0 });
      expect((await computeKernels(tr.slice(1), { dev }, opts)).blocks.cached).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
