/**
 * Issue 19 items 1, 2, 6, 7 end to end: two processes on one directory (sweep jobs, a kernel cache entry, a
 * fine-tuning output), a kernel directory rewritten with a write failing midway (injected ENOSPC), a deleted kernel
 * file, NaN weights, an --out that cannot exist.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { validateSweepConfig } from "../../src/experiments/config.ts";
import type { Executor } from "../../src/experiments/executor.ts";
import { gridPoints } from "../../src/experiments/jobs.ts";
import { runSweep } from "../../src/experiments/runner.ts";
import { computeKernels } from "../../src/kernels/compute.ts";
import type { FactorSource } from "../../src/kernels/types.ts";
import { initModel } from "../../src/model/init/init.ts";
import { syntheticExample } from "../kernels/synthetic.ts";

/** Paths matching `inject.enospc` fail to write with ENOSPC (a full disk, without mounting a small tmpfs). */
const inject = vi.hoisted(() => ({ enospc: undefined as RegExp | undefined }));
vi.mock("node:fs/promises", async (orig) => {
  const m = await orig<typeof import("node:fs/promises")>();
  const writeFile: typeof m.writeFile = async (path, ...rest) => {
    if (inject.enospc?.test(String(path)))
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: "ENOSPC" });
    return m.writeFile(path, ...rest);
  };
  return { ...m, writeFile, default: { ...m, writeFile } };
});

const root = fileURLToPath(new URL("../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "entk-conc-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    return { code: await main(["node", "entk", ...argv]), err: err.join("") };
  } finally {
    spy.mockRestore();
    out.mockRestore();
  }
}

describe("two processes on one directory", () => {
  it("two sweeps on one output run every job once (the second waits for the first's jobs)", async () => {
    const out = join(tmp, "sweep");
    const config = validateSweepConfig({
      model: "m",
      data: "d",
      tasks: ["SST-2", "MRPC"],
      k: [16],
      seeds: [13, 21],
      out,
      methods: [{ kind: "kernel", formula: ["sgd"], solver: "lstsq", reg: [0] }],
    });
    const calls: string[] = [];
    const ex: Executor = async (job, ctx) => {
      calls.push(job.key);
      await new Promise((r) => setTimeout(r, 150));
      return gridPoints(job.grid).map((p) =>
        ctx.record({ hyperparameters: p, dev: { acc: 0.5 }, test: { acc: 0.5 }, weightsHash: "w" }),
      );
    };
    const opts = { quiet: true, log: () => {}, executor: ex };
    const [a, b] = await Promise.all([runSweep(config, opts), runSweep(config, opts)]);
    expect(calls.length).toBe(4);
    expect(new Set(calls).size).toBe(4);
    expect(a.ran + b.ran).toBe(4);
    expect(a.failed).toEqual([]);
    expect(b.failed).toEqual([]);
    expect(readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").length).toBe(4);
    expect(readdirSync(join(out, "jobs")).filter((f) => f.endsWith(".lock"))).toEqual([]);
  });

  it("two kernel runs on one cache entry compute it once: the second waits, then reads it", async () => {
    const cache = join(tmp, "kcache");
    const tr = [3, 5, 2, 4].map((T, i) => syntheticExample(100 + i, T, 2));
    const dev = [2, 3, 4].map((T, i) => syntheticExample(200 + i, T, 2));
    const loads = { n: 0 };
    const keyed = (name: string, exs: typeof tr): FactorSource => ({
      size: exs.length,
      keys: exs.map((_, i) => `${name}-${i}`),
      load: async (s, e) => {
        loads.n += e - s;
        await new Promise((r) => setTimeout(r, 50));
        return exs.slice(s, e);
      },
    });
    const opts = { formulas: ["sgd" as const], memoryBytes: 2 ** 30, cacheDir: cache, quiet: true };
    const [a, b] = await Promise.all([
      computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, opts),
      computeKernels(keyed("tr", tr), { dev: keyed("dev", dev) }, opts),
    ]);
    expect(loads.n).toBe(tr.length + dev.length);
    expect(a.blocks.computed + b.blocks.computed).toBe(a.blocks.computed);
    expect(Array.from(b.kernels.dev.sgd!)).toEqual(Array.from(a.kernels.dev.sgd!));
  });
});

describe("entk kernel / solve / finetune on a tiny model", () => {
  const split = join(tmp, "split");
  mkdirSync(split);
  const sents = ["a great movie", "terrible acting", "it was fine", "great fun , great cast", "so bad", "a movie"];
  for (const s of ["train", "dev", "test"])
    writeFileSync(join(split, `${s}.tsv`), `sentence\tlabel\n${sents.map((x, i) => `${x}\t${i % 2}`).join("\n")}\n`);
  const modelA = join(root, "models/tiny-roberta");
  const kernel = (model: string, out: string, ...extra: string[]) =>
    cli(
      "kernel",
      "--model",
      model,
      "--task",
      "GLUE-SST-2",
      "--split-dir",
      split,
      "--out",
      out,
      "--no-cache",
      "--quiet",
      ...extra,
    );
  const files = (dir: string) =>
    Object.fromEntries(
      readdirSync(dir)
        .sort()
        .map((f) => [f, readFileSync(join(dir, f)).toString("base64")]),
    );

  it("a kernel directory is replaced as a whole: a rerun that fails midway (disk full) leaves the old one intact", async () => {
    const modelB = join(tmp, "modelB");
    await initModel({ arch: "roberta", preset: "tiny", seed: 3, out: modelB });
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
      writeFileSync(join(modelB, f), readFileSync(join(modelA, f)));
    const out = join(tmp, "kout");
    expect((await kernel(modelA, out)).code).toBe(0);
    const before = files(out);
    inject.enospc = /kernel\.sgd\.test\.npy/;
    const failed = await kernel(modelB, out).finally(() => {
      inject.enospc = undefined;
    });
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/kernel\.sgd\.test\.npy: cannot write: no space left on the device \(ENOSPC\)/);
    expect(files(out)).toEqual(before);
    expect(readdirSync(tmp).filter((f) => f.includes(".entk-"))).toEqual([]);
    const solved = await cli("solve", "--kernels", out, "--formula", "sgd", "--solver", "lstsq");
    expect(solved.code, solved.err).toBe(0);
    // A file the manifest lists but that is gone (or changed) is refused, not silently dropped.
    rmSync(join(out, "kernel.sgd.test.npy"));
    const missing = await cli("solve", "--kernels", out, "--formula", "sgd", "--solver", "lstsq");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/kernel\.sgd\.test\.npy: missing, but the directory's manifest lists it/);
  }, 300_000);

  it("NaN weights are named instead of giving NaN kernels; --out below /proc fails at once", async () => {
    const bad = join(tmp, "nan-model");
    mkdirSync(bad);
    for (const f of readdirSync(modelA)) writeFileSync(join(bad, f), readFileSync(join(modelA, f)));
    const st = readFileSync(join(bad, "model.safetensors"));
    const hlen = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + hlen).toString("utf8"));
    const name = "roberta.encoder.layer.1.output.dense.weight";
    st.writeFloatLE(Number.NaN, 8 + hlen + header[name].data_offsets[0] + 4 * 5);
    writeFileSync(join(bad, "model.safetensors"), st);
    const r = await kernel(bad, join(tmp, "nan-out"));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`weight tensor ${name} holds NaN (element 5), so the initial logits f0`);
    const p = await kernel(modelA, "/proc/entk-x/y");
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/\/proc\/entk-x: cannot create the directory/);
  }, 300_000);

  it("a second finetune on a directory in use says who holds it", async () => {
    const out = join(tmp, "ft");
    mkdirSync(out);
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      writeFileSync(
        join(out, ".entk.lock"),
        JSON.stringify({
          pid: child.pid,
          host: hostname(),
          startedAt: "2026-01-01T00:00:00Z",
          what: "entk finetune",
          nonce: "x",
        }),
      );
      const r = await cli(
        ...["finetune", "--model", modelA, "--task", "GLUE-SST-2", "--split-dir", split, "--optimizer", "sgd"],
        ...["--lr", "0.001", "--batch-size", "2", "--steps", "2", "--out", out, "--quiet"],
      );
      expect(r.code).toBe(1);
      expect(r.err).toContain(`in use by pid ${child.pid} on host ${hostname()}`);
      expect(readdirSync(out)).toEqual([".entk.lock"]);
    } finally {
      child.kill("SIGKILL");
    }
  }, 300_000);
});
