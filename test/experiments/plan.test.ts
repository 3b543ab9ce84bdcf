/**
 * `entk sweep --plan` (issue 18 item 2): the planner's bookkeeping over a real config (scripts/quick.json: tiny
 * model, bundled tasks). The FLOPs model itself is checked against onnxruntime's counted FLOPs in
 * test/kernels/cost.test.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";
import { planSweep, type SweepPlan } from "../../src/experiments/plan.ts";
import { selectShard } from "../../src/experiments/shard.ts";
import { loadTask } from "../../src/prompts/task.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const QUICK = join(root, "scripts/quick.json");
let plan: SweepPlan;

beforeAll(async () => {
  plan = await planSweep(loadSweepConfig(QUICK), { shard: { index: 2, count: 3 }, gflops: 100 });
}, 300_000);

describe("sweep plan", () => {
  it("covers this shard's jobs, and the shards' totals add up to the whole sweep", () => {
    const all = expandJobs(loadSweepConfig(QUICK));
    expect(plan.jobs.map((e) => e.job.key)).toEqual(selectShard(all, { index: 2, count: 3 }).map((j) => j.key));
    expect(plan.whole.jobs).toBe(all.length);
    expect(plan.shards).toHaveLength(3);
    const sum = (f: (t: SweepPlan["whole"]) => number) => plan.shards!.reduce((a, t) => a + f(t), 0);
    // Work is shared only inside a unit (task, k, seed), and a unit stays on one shard.
    expect(sum((t) => t.jobs)).toBe(plan.whole.jobs);
    expect(sum((t) => t.flops)).toBeCloseTo(plan.whole.flops, -3);
    expect(sum((t) => t.kernelBlockBytes)).toBe(plan.whole.kernelBlockBytes);
  });

  it("a second solver on the same formula reads the first one's kernel blocks: only logits are computed", () => {
    const kernel = plan.jobs.filter((e) => e.job.method.startsWith("kernel:sgd:"));
    expect(kernel.length).toBeGreaterThanOrEqual(2);
    const [first, second] = kernel;
    expect(first.flops.gradients).toBeGreaterThan(0);
    expect(first.flops.contraction).toBeGreaterThan(0);
    expect(first.kernelBlockBytes).toBeGreaterThan(0);
    expect(second.flops).toEqual({ logits: first.flops.logits, gradients: 0, contraction: 0 });
    expect(second.kernelBlockBytes).toBe(0);
    expect(second.notes.join(" ")).toMatch(new RegExp(`cached by job ${first.job.key}`));
  });

  it("seconds follow the probe's rate, and every kernel job fits the budget", async () => {
    const fast = await planSweep(loadSweepConfig(QUICK), { gflops: 200 });
    const slow = await planSweep(loadSweepConfig(QUICK), { gflops: 100 });
    expect(fast.whole.flops).toBe(slow.whole.flops);
    expect(slow.whole.seconds / fast.whole.seconds).toBeCloseTo(2, 9);
    for (const e of slow.jobs) {
      expect(Number.isFinite(e.seconds) && e.seconds > 0).toBe(true);
      if (e.job.method.startsWith("kernel:")) expect(e.peakBytes).toBeLessThanOrEqual(slow.memoryBytes);
    }
  }, 300_000);

  it("sizes come from the job's split: k per label for train and dev, limitEval for the test set", () => {
    const cfg = loadSweepConfig(QUICK);
    const e = plan.jobs.find((x) => x.job.method === "kernel:sgd:lstsq")!;
    const C = loadTask(e.job.task).labels.length;
    const n = e.job.k * C;
    const nEval = cfg.limits.limitEval!;
    // float64 kernel blocks of train × {train, dev, test}, one formula pair (src/kernels/disk.ts); the k-shot dev set
    // has k per label too (fewer than limitEval), the test set is cut to limitEval.
    expect(nEval).toBeGreaterThan(n);
    expect(e.kernelBlockBytes).toBe(8 * (C * n) * C * (n + n + nEval));
  });
});

describe("entk sweep --plan", () => {
  it("prints one row per job of the shard, the shard's and the whole sweep's totals, and every shard's", () => {
    const r = spawnSync(
      process.execPath,
      [join(root, "bin/entk.js"), "sweep", QUICK, "--plan", "--probe-gflops", "100", "--shard", "1/2"],
      { encoding: "utf8", timeout: 240_000 },
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^# plan of quick: model models\/entk-mini; Gemm probe 100\.0 GFLOP\/s \(load /);
    expect(lines[1].split("\t")).toEqual([
      "key",
      "task",
      "k",
      "seed",
      "method",
      "GFLOP",
      "seconds",
      "peak",
      "kernel blocks",
      "factors",
      "notes",
    ]);
    const rows = lines.filter((l) => /^[0-9a-f]{16}\t/.test(l));
    expect(rows).toHaveLength(13); // as --dry-run --shard 1/2 lists (test/experiments/configs.test.ts)
    expect(lines.filter((l) => /^shard 1\/2: 13 jobs, /.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^whole sweep: 26 jobs, .* h here, peak .*; disk: kernel blocks /.test(l))).toHaveLength(
      1,
    );
    expect(lines.filter((l) => /^ {2}shard [12]\/2: 13 jobs/.test(l))).toHaveLength(2);
  }, 300_000);
});
