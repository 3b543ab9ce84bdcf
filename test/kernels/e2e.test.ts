/**
 * End to end on a tiny model written by `model init`: `entk kernel` output vs an independent oracle — tfjs
 * autodiff gradients (test/model/reference-tf.ts) contracted by brute force — and vs dense gradient rows from the
 * engine's `materialize`; cache hit on rerun; binary mode; parameter subsets; usage errors.
 */
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { computeKernels } from "../../src/kernels/compute.ts";
import { modelFactorSource } from "../../src/kernels/model-source.ts";
import { readKernel, readKernelMeta } from "../../src/kernels/output.ts";
import { includeParam } from "../../src/kernels/params.ts";
import type { KernelName, ParamFilter } from "../../src/kernels/types.ts";
import { initModel } from "../../src/model/init/init.ts";
import { loadModel } from "../../src/model/load.ts";
import { createPromptModel } from "../../src/model/prompt-model.ts";
import type { PromptInput } from "../../src/model/types.ts";
import type { LoadedWeights } from "../../src/model/weights/types.ts";
import { readNpy } from "../../src/util/npy.ts";
import { tfFAndGrads } from "../model/reference-tf.ts";

let root: string;
let modelDir: string;
let splitDir: string;
let weights: LoadedWeights;

const SENTS = {
  train: ["a great movie", "terrible acting", "it was fine", "great fun , great cast"],
  dev: ["so terrible", "a movie", "fun"],
  test: ["great", "not great at all", "acting fine"],
};

/** Bring in-place (external) tensors into memory for the tfjs oracle. */
function inMemory(w: LoadedWeights): LoadedWeights {
  const tensors = new Map(
    [...w.tensors].map(([name, t]) => {
      if (t.data || !t.external) return [name, t];
      const buf = Buffer.alloc(t.external.length);
      const fd = openSync(t.external.path, "r");
      readSync(fd, buf, 0, t.external.length, t.external.offset);
      return [name, { ...t, data: new Float32Array(buf.buffer, buf.byteOffset, t.external.length / 4).slice() }];
    }),
  );
  return { ...w, tensors };
}

function inputsOf(dir: string, split: string): (PromptInput & { label: number })[] {
  return readFileSync(join(dir, `inputs.${split}.jsonl`), "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const o = JSON.parse(l);
      return { inputIds: o.input_ids, maskPos: o.mask_pos, label: o.label };
    });
}

/** Dense gradient rows per example and output over the included params (key biases exactly 0, as documented). */
type Rows = Float64Array[][];
function oracleRows(
  w: LoadedWeights,
  xs: PromptInput[],
  labelIds: number[],
  binary: boolean,
  filter: ParamFilter,
): Rows {
  return xs.map((x) => {
    const { grads } = tfFAndGrads(w, x, labelIds, binary);
    return grads.map((g) => {
      const names = [...g.keys()].filter((n) => includeParam(n, filter)).sort();
      const parts = names.map((n) =>
        n.includes("attention.self.key.bias") ? new Float32Array(g.get(n)!.length) : g.get(n)!,
      );
      const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    });
  });
}

function brute(a: Rows, b: Rows, signA: boolean, signB: boolean): Float64Array {
  const C = a[0].length;
  const K = new Float64Array(a.length * C * b.length * C);
  for (let i = 0; i < a.length; i++)
    for (let c = 0; c < C; c++)
      for (let j = 0; j < b.length; j++)
        for (let c2 = 0; c2 < C; c2++) {
          const u = a[i][c];
          const v = b[j][c2];
          let s = 0;
          for (let k = 0; k < u.length; k++) s += (signA ? Math.sign(u[k]) : u[k]) * (signB ? Math.sign(v[k]) : v[k]);
          K[((i * C + c) * b.length + j) * C + c2] = s;
        }
  return K;
}

function maxRelErr(got: Float64Array, want: Float64Array): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  return err / scale;
}

async function kernelCli(out: string, ...extra: string[]): Promise<number> {
  const argv = ["--model", modelDir, "--task", "GLUE-SST-2", "--split-dir", splitDir, "--out", out, "--quiet"];
  return main(["node", "entk", "kernel", ...argv, "--cache-dir", join(root, "cache"), ...extra]);
}

/** What `fn` writes to stderr, captured instead of printed. */
async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  const err: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => {
    err.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), err: err.join("") };
  } finally {
    process.stderr.write = orig;
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "entk-e2e-kernel-"));
  modelDir = join(root, "model");
  await initModel({ arch: "roberta", preset: "tiny", seed: 5, out: modelDir });
  splitDir = join(root, "split");
  mkdirSync(splitDir);
  for (const [split, sents] of Object.entries(SENTS))
    writeFileSync(
      join(splitDir, `${split}.tsv`),
      `sentence\tlabel\n${sents.map((s, i) => `${s} \t${i % 2}`).join("\n")}\n`,
    );
  weights = inMemory(await loadModel(modelDir));
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("entk kernel end to end (tiny roberta)", () => {
  it("equals the tfjs-autodiff oracle and the engine's dense rows; rerun is a cache hit", async () => {
    const out = join(root, "out-all");
    expect(await kernelCli(out, "--formulas", "sgd,signgd,asymmetric_signgd")).toBe(0);
    const meta = readKernelMeta(out);
    expect(meta.splits).toEqual({ train: 4, dev: 3, test: 3 });
    expect(meta.C).toBe(2);
    expect(meta.cache?.blocks_computed).toBe(3);
    const lw = meta.label_word_ids;
    const rows: Record<string, Rows> = {};
    const engineRows: Record<string, Rows> = {};
    const model = createPromptModel(weights, lw);
    const names = model
      .params()
      .map((p) => p.name)
      .sort();
    for (const split of ["train", "dev", "test"]) {
      const xs = inputsOf(out, split);
      expect(Array.from(readNpy(join(out, `labels.${split}.npy`)).data as Int32Array)).toEqual(xs.map((x) => x.label));
      rows[split] = oracleRows(weights, xs, lw, false, {});
      const logits = readNpy(join(out, `logits.${split}.npy`)).data as Float32Array;
      xs.forEach((x, i) => {
        const f = tfFAndGrads(weights, x, lw, false).f;
        for (let c = 0; c < 2; c++) expect(logits[i * 2 + c]).toBeCloseTo(f[c], 4);
      });
      const factors = await model.gradFactors(xs);
      engineRows[split] = factors.map((f) => {
        const dense = names.map((n) => model.materialize(f, n));
        return [0, 1].map((c) => {
          const parts = dense.map((d) => d.subarray((c * d.length) / 2, ((c + 1) * d.length) / 2));
          const v = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
          let off = 0;
          for (const p of parts) {
            v.set(p, off);
            off += p.length;
          }
          return v;
        });
      });
    }
    expect(engineRows.train[0][0].length).toBe(meta.grad_dim);
    for (const split of ["train", "dev", "test"]) {
      const k = (name: KernelName) => readKernel(out, name, split).data;
      expect(readKernel(out, "sgd", split).shape).toEqual([4, 2, SENTS[split as keyof typeof SENTS].length, 2]);
      expect(maxRelErr(k("sgd"), brute(rows.train, rows[split], false, false))).toBeLessThan(1e-4);
      expect(maxRelErr(k("asymmetric_signgd"), brute(rows.train, rows[split], true, false))).toBeLessThan(1e-3);
      expect(maxRelErr(k("asymmetric_signgd_flipped"), brute(rows.train, rows[split], false, true))).toBeLessThan(1e-3);
      // Sign counts: exact against the engine's own dense rows; within rounding-sign flips of the oracle.
      expect(Array.from(k("signgd"))).toEqual(Array.from(brute(engineRows.train, engineRows[split], true, true)));
      expect(maxRelErr(k("signgd"), brute(rows.train, rows[split], true, true))).toBeLessThan(1e-3);
    }
    // The solvers read this directory as written (contract of README "Kernel output layout").
    for (const formula of ["sgd", "asymmetric_signgd"])
      expect(
        await main(["node", "entk", "solve", "--kernels", out, "--formula", formula, "--solver", "lstsq", "--json"]),
      ).toBe(0);
    const again = join(root, "out-again");
    expect(await kernelCli(again, "--formulas", "sgd,signgd,asymmetric_signgd")).toBe(0);
    expect(readKernelMeta(again).cache).toMatchObject({ blocks_cached: 3, blocks_computed: 0, factors_cached: false });
    expect(Array.from(readKernel(again, "signgd", "test").data)).toEqual(
      Array.from(readKernel(out, "signgd", "test").data),
    );
  }, 240_000);

  it("binary mode equals the difference-of-logits kernel; subsets match the oracle on included params", async () => {
    const multi = join(root, "out-multi");
    const bin = join(root, "out-bin");
    expect(await kernelCli(multi, "--formulas", "sgd", "--eval-splits", "dev", "--no-cache")).toBe(0);
    expect(await kernelCli(bin, "--formulas", "sgd", "--eval-splits", "dev", "--binary", "--no-cache")).toBe(0);
    const K = readKernel(multi, "sgd", "dev").data;
    const B = readKernel(bin, "sgd", "dev");
    expect(B.shape).toEqual([4, 1, 3, 1]);
    const at = (i: number, c: number, j: number, c2: number) => K[((i * 2 + c) * 3 + j) * 2 + c2];
    const want = new Float64Array(12);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 3; j++) want[i * 3 + j] = at(i, 1, j, 1) - at(i, 1, j, 0) - at(i, 0, j, 1) + at(i, 0, j, 0);
    expect(maxRelErr(B.data, want)).toBeLessThan(1e-4);
    const f0 = readNpy(join(multi, "logits.dev.npy")).data as Float32Array;
    const f0b = readNpy(join(bin, "logits.dev.npy")).data as Float32Array;
    for (let j = 0; j < 3; j++) expect(f0b[j]).toBeCloseTo(f0[j * 2 + 1] - f0[j * 2], 4);

    const sub = join(root, "out-sub");
    expect(
      await kernelCli(sub, "--formulas", "sgd,signgd", "--exclude-embeddings", "--exclude-head", "--limit-eval", "2"),
    ).toBe(0);
    const meta = readKernelMeta(sub);
    expect(meta.splits).toEqual({ train: 4, dev: 2, test: 2 });
    const filter = { excludeEmbeddings: true, excludeHead: true };
    const tr = oracleRows(weights, inputsOf(sub, "train"), meta.label_word_ids, false, filter);
    const te = oracleRows(weights, inputsOf(sub, "test"), meta.label_word_ids, false, filter);
    expect(tr[0][0].length).toBe(meta.grad_dim);
    expect(maxRelErr(readKernel(sub, "sgd", "test").data, brute(tr, te, false, false))).toBeLessThan(1e-4);
    expect(maxRelErr(readKernel(sub, "signgd", "test").data, brute(tr, te, true, true))).toBeLessThan(1e-3);
  }, 240_000);

  it("is invariant to the engine's batch size (padding) and to eval order", async () => {
    const out = join(root, "out-inv");
    expect(await kernelCli(out, "--formulas", "sgd,signgd", "--eval-splits", "dev", "--no-cache")).toBe(0);
    const lw = readKernelMeta(out).label_word_ids;
    const tr = inputsOf(out, "train");
    const dev = inputsOf(out, "dev");
    const perm = [2, 0, 1];
    const key = { weightsHash: weights.hash, labelWordIds: lw, binary: false };
    for (const batchSize of [1, 3]) {
      const model = createPromptModel(weights, lw, { batchSize });
      const res = await computeKernels(
        modelFactorSource(model, tr, key),
        {
          dev: modelFactorSource(
            model,
            perm.map((j) => dev[j]),
            key,
          ),
        },
        { formulas: ["sgd", "signgd"], memoryBytes: 2 ** 30, quiet: true },
      );
      for (const name of ["sgd", "signgd"] as const) {
        const want = readKernel(out, name, "dev").data;
        const got = res.kernels.dev[name]!;
        const unperm = new Float64Array(want.length);
        for (let r = 0; r < 8; r++)
          perm.forEach((j, jj) => {
            for (let c = 0; c < 2; c++) unperm[r * 6 + j * 2 + c] = got[r * 6 + jj * 2 + c];
          });
        expect(maxRelErr(unperm, want)).toBeLessThan(name === "sgd" ? 1e-5 : 1e-3);
      }
    }
  }, 120_000);

  it("rejects bad flags with exit code 2 and missing files with a message naming them", async () => {
    expect(await kernelCli(join(root, "x"), "--formulas", "sgd,ntk")).toBe(2);
    expect(await kernelCli(join(root, "x"), "--memory", "lots")).toBe(2);
    const { value: rc, err } = await captureStderr(() =>
      main([
        "node",
        "entk",
        "kernel",
        "--model",
        modelDir,
        "--task",
        "GLUE-SST-2",
        "--split-dir",
        join(root, "nope"),
        "--out",
        join(root, "x"),
        "--quiet",
        "--no-cache",
      ]),
    );
    expect(rc).toBe(1);
    expect(err).toMatch(/nope\/train\.tsv: file not found/);
  });

  it("refuses a budget below what the loaded model holds before computing anything", async () => {
    const out = join(root, "small-budget");
    const { value: rc, err } = await captureStderr(() => kernelCli(out, "--memory", "1MB", "--no-cache"));
    expect(rc).toBe(1);
    expect(err).toMatch(/--memory 1\.0 MiB is too small: the model and runtime already use .* MiB before any example/);
    expect(existsSync(out)).toBe(false);
  });
});
