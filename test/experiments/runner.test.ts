import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateSweepConfig } from "../../src/experiments/config.ts";
import type { Executor } from "../../src/experiments/executor.ts";
import { registryExecutor } from "../../src/experiments/executor.ts";
import { expandJobs, gridPoints } from "../../src/experiments/jobs.ts";
import { registerMethodModule } from "../../src/experiments/method-modules.ts";
import { runSweep } from "../../src/experiments/runner.ts";
import { ResultsStore, readResults, readResultsFile } from "../../src/experiments/store.ts";
import { defaultExecutors } from "../../src/experiments/wiring.ts";
import sleepMethod from "../helpers/sleep-method.mjs";

registerMethodModule(sleepMethod);

const tmp = () => mkdtempSync(join(tmpdir(), "entk-sweep-"));

const config = (out: string, over: Record<string, unknown> = {}) =>
  validateSweepConfig({
    model: "tiny",
    data: "d",
    tasks: ["SST-2", "MRPC"],
    k: [16],
    seeds: [13, 21, 42],
    out,
    methods: [{ kind: "kernel", formula: ["sgd", "signgd"], solver: "lstsq", reg: [0, 0.1] }],
    ...over,
  });

/** A fake executor: records calls, returns one record per grid point with metrics from the job's seed. */
function fake(opts: { failTask?: string; delayMs?: number } = {}) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const ex: Executor = async (job, ctx) => {
    calls.push(job.key);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
      if (job.task === opts.failTask) throw new Error("boom");
      return gridPoints(job.grid).map((p) =>
        ctx.record({
          hyperparameters: p,
          dev: { acc: job.seed / 100 },
          test: { acc: (p.reg ?? 0) + 0.5 },
          weightsHash: "w",
        }),
      );
    } finally {
      inFlight--;
    }
  };
  return { ex, calls, max: () => maxInFlight };
}

const quiet = { quiet: true, log: () => {} };

describe("runSweep", () => {
  it("jobs running at once share the memory budget; the device reaches every job", async () => {
    const seen: [number, string][] = [];
    const f = fake({ delayMs: 5 });
    const ex: Executor = (job, ctx) => {
      seen.push([ctx.memoryBytes, ctx.device]);
      return f.ex(job, ctx);
    };
    const c = config(tmp(), { memory: "8GB", device: "cuda" });
    await runSweep(c, { ...quiet, executor: ex, concurrency: 2 });
    expect(seen.length).toBe(12);
    for (const s of seen) expect(s).toEqual([4 * 2 ** 30, "cuda"]);
    // Options override the config.
    seen.length = 0;
    await runSweep(c, { ...quiet, executor: ex, concurrency: 3, memoryBytes: 3000, device: "cpu", outDir: tmp() });
    for (const s of seen) expect(s).toEqual([1000, "cpu"]);
  });

  it("runs every job once, writes one records file per job with full records, and a merged results.jsonl", async () => {
    const out = tmp();
    const f = fake();
    const s = await runSweep(config(out), { ...quiet, executor: f.ex });
    expect(s).toMatchObject({ total: 12, inShard: 12, alreadyDone: 0, ran: 12, failed: [], interrupted: false });
    expect(f.calls.length).toBe(12);
    expect(readdirSync(join(out, "records")).length).toBe(12);
    const merged = readResultsFile(join(out, "results.jsonl"));
    expect(merged.length).toBe(24);
    const r = merged.find(
      (x) => x.task === "MRPC" && x.seed === 21 && x.method === "kernel:signgd:lstsq" && x.hyperparameters.reg === 0.1,
    );
    expect(r).toMatchObject({
      k: 16,
      dev: { acc: 0.21 },
      test: { acc: 0.6 },
      model: { id: "tiny", weightsHash: "w" },
      entkVersion: expect.any(String),
    });
    expect(r?.hyperparameters).toMatchObject({ binary: false, reg: 0.1 });
    expect(r?.machine?.cpus).toBeGreaterThan(0);
    expect(r?.wallTimeS).toBeGreaterThanOrEqual(0);
    const manifest = JSON.parse(readFileSync(join(out, "shards", "1-of-1.json"), "utf8"));
    expect(manifest.summary.ran).toBe(12);
    expect(manifest.finishedAt).toEqual(expect.any(String));
  });

  it("resumes: finished jobs (by content key) are skipped, new grid entries run", async () => {
    const out = tmp();
    await runSweep(config(out, { seeds: [13] }), { ...quiet, executor: fake().ex });
    const f = fake();
    const s = await runSweep(config(out), { ...quiet, executor: f.ex });
    expect(s.alreadyDone).toBe(4);
    expect(s.ran).toBe(8);
    expect(f.calls.length).toBe(8);
    const seeds13 = new Set(expandJobs(config(out, { seeds: [13] })).map((j) => j.key));
    for (const key of f.calls) expect(seeds13.has(key)).toBe(false);
    const again = fake();
    expect((await runSweep(config(out), { ...quiet, executor: again.ex })).ran).toBe(0);
    expect(again.calls.length).toBe(0);
  });

  it("shards split the work: n runs into one dir call each job exactly once and write disjoint files", async () => {
    const out = tmp();
    const n = 4;
    const f = fake();
    const written: string[][] = [];
    for (let i = 1; i <= n; i++) {
      const before = new Set(readdirSync(join(out)).includes("records") ? readdirSync(join(out, "records")) : []);
      await runSweep(config(out), { ...quiet, executor: f.ex, shard: { index: i, count: n } });
      written.push(readdirSync(join(out, "records")).filter((x) => !before.has(x)));
    }
    expect(f.calls.length).toBe(12);
    expect(new Set(f.calls).size).toBe(12);
    expect(written.flat().length).toBe(12);
    expect(readdirSync(join(out, "shards")).sort()).toEqual([
      "1-of-4.json",
      "2-of-4.json",
      "3-of-4.json",
      "4-of-4.json",
    ]);
    // no merged file from sharded runs (they would all write it); the store reads the union
    expect(readdirSync(out)).not.toContain("results.jsonl");
    expect(new ResultsStore(out).read().length).toBe(24);
  });

  it("the merged results.jsonl holds only this config's jobs", async () => {
    const out = tmp();
    await runSweep(config(out, { seeds: [99] }), { ...quiet, executor: fake().ex });
    await runSweep(config(out), { ...quiet, executor: fake().ex });
    const merged = readResultsFile(join(out, "results.jsonl"));
    expect(merged.length).toBe(24);
    expect(merged.some((r) => r.seed === 99)).toBe(false);
    expect(new ResultsStore(out).read().length).toBe(32);
  });

  it("runs at most `concurrency` jobs at once", async () => {
    const f1 = fake({ delayMs: 20 });
    await runSweep(config(tmp()), { ...quiet, executor: f1.ex });
    expect(f1.max()).toBe(1);
    const f3 = fake({ delayMs: 20 });
    await runSweep(config(tmp()), { ...quiet, executor: f3.ex, concurrency: 3 });
    expect(f3.max()).toBe(3);
  });

  it("records failures, keeps going, and retries failed jobs on the next run", async () => {
    const out = tmp();
    const logs: string[] = [];
    const s = await runSweep(config(out), {
      quiet: true,
      log: (m) => logs.push(m),
      executor: fake({ failTask: "MRPC" }).ex,
    });
    expect(s.ran).toBe(6);
    expect(s.failed.length).toBe(6);
    expect(s.failed[0]).toMatchObject({ task: "MRPC", error: "boom" });
    expect(readdirSync(join(out, "failed")).length).toBe(6);
    expect(logs.some((l) => /failed: boom/.test(l))).toBe(true);
    expect(readdirSync(out)).not.toContain("results.jsonl");
    const s2 = await runSweep(config(out), { ...quiet, executor: fake().ex });
    expect(s2).toMatchObject({ alreadyDone: 6, ran: 6, failed: [] });
    expect(readdirSync(join(out, "failed")).length).toBe(0);
    expect(readResultsFile(join(out, "results.jsonl")).length).toBe(24);
  });

  it("failFast stops scheduling after the first failure", async () => {
    const f = fake({ failTask: "SST-2" });
    const s = await runSweep(config(tmp()), { ...quiet, executor: f.ex, failFast: true });
    expect(f.calls.length).toBe(1);
    expect(s.failed.length).toBe(1);
  });

  it("an abort (Ctrl-C) stops new jobs, keeps finished records, and is not a failure", async () => {
    const out = tmp();
    const ac = new AbortController();
    let n = 0;
    const ex: Executor = async (_job, ctx) => {
      if (++n === 3) ac.abort();
      return [ctx.record({ dev: { acc: 1 }, test: { acc: 1 }, weightsHash: "w" })];
    };
    const s = await runSweep(config(out), { ...quiet, executor: ex, signal: ac.signal });
    expect(s.interrupted).toBe(true);
    expect(s.ran).toBe(3);
    expect(s.failed).toEqual([]);
    expect(readdirSync(out)).not.toContain("results.jsonl");
    const s2 = await runSweep(config(out), { ...quiet, executor: fake().ex });
    expect(s2).toMatchObject({ alreadyDone: 3, ran: 9 });
  });

  it("rejects malformed records from an executor and writes nothing for that job", async () => {
    const out = tmp();
    const ex: Executor = async (_job, ctx) => [
      ctx.record({ dev: { acc: Number.NaN }, test: { acc: 1 }, weightsHash: "w" }),
    ];
    const s = await runSweep(config(out, { tasks: ["SST-2"], seeds: [13] }), { ...quiet, executor: ex });
    expect(s.failed[0].error).toMatch(/dev metric "acc" must be a finite number/);
    expect(readdirSync(join(out, "records"))).toEqual([]);
  });

  it("the default registry: kernel and ft jobs reach the compute layers (here: no data), sleep works", async () => {
    const out = tmp();
    const s = await runSweep(config(out, { tasks: ["SST-2"], seeds: [13] }), quiet);
    expect(s.failed.map((f) => f.error)).toEqual([
      expect.stringMatching(/^no k-shot-1k-test split for SST-2 k=16 seed=13: neither .* nor d\/SST-2\/train\.tsv/),
      expect.stringMatching(/^no k-shot-1k-test split for SST-2 k=16 seed=13/),
    ]);
    const ex = registryExecutor(defaultExecutors);
    const s2 = await runSweep(config(tmp(), { methods: [{ kind: "sleep", ms: 1, variants: 3 }] }), {
      ...quiet,
      executor: ex,
    });
    expect(s2.ran).toBe(6);
    const s3 = await runSweep(
      config(tmp(), { methods: [{ kind: "ft", optimizer: "sgd", lr: 1, batchSize: 1, steps: 1 }] }),
      quiet,
    );
    expect(s3.failed[0].error).toMatch(/^no k-shot-1k-test split for SST-2 k=16 seed=13/);
  });
});

describe("results files", () => {
  it("readResults merges dirs and files, drops duplicates, ignores in-flight temp files", async () => {
    const out = tmp();
    await runSweep(config(out), { ...quiet, executor: fake().ex });
    writeFileSync(join(out, "records", ".abc.jsonl.123.tmp"), '{"half');
    const { records, duplicates } = readResults([out, join(out, "results.jsonl")]);
    expect(records.length).toBe(24);
    expect(duplicates).toBe(24);
  });

  it("a bad line is an error naming file and line", () => {
    const dir = tmp();
    const f = join(dir, "r.jsonl");
    writeFileSync(f, `${JSON.stringify({ schema: "entk.result/1" })}\n`);
    expect(() => readResultsFile(f)).toThrow(`${f}:1: not a result record: "key" must be a non-empty string`);
    writeFileSync(f, '\n{"schema":');
    expect(() => readResultsFile(f)).toThrow(`${f}:2: not valid JSON (truncated last line?)`);
    expect(() => readResults([join(dir, "nope")])).toThrow(/results not found: .*nope/);
  });
});
