import { type Command, InvalidArgumentError, Option } from "commander";
import { configHash, loadSweepConfig, resolveOutDir } from "../../experiments/config.ts";
import { expandJobs } from "../../experiments/jobs.ts";
import { type PlanTotals, planSweep, type SweepPlan } from "../../experiments/plan.ts";
import { runSweep } from "../../experiments/runner.ts";
import { parseShard, type Shard, selectShard } from "../../experiments/shard.ts";
import { ResultsStore } from "../../experiments/store.ts";
import { formatBytes } from "../../kernels/disk.ts";
import { DEFAULT_DEVICE, type Device } from "../../model/runtime/providers.ts";
import { deviceOption, intArg, memoryArg } from "../args.ts";
import { flagParser } from "../option-errors.ts";

const shardArg: (v: string) => Shard = flagParser(parseShard);

const positiveInt = intArg(1);

function positiveNumber(v: string): number {
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return x;
}

function writeOut(lines: string[]): void {
  // `entk sweep --dry-run | head` closes the pipe early: that is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
  process.stdout.write(`${lines.join("\n")}\n`);
}

const gflop = (f: number) => (f / 1e9).toFixed(1);
const hours = (s: number) => (s / 3600).toFixed(2);

function totalsLine(what: string, t: PlanTotals): string {
  return (
    `${what}: ${t.jobs} jobs, ${(t.flops / 1e15).toFixed(2)} PFLOP, ${hours(t.seconds)} h here, peak ` +
    `${formatBytes(t.peakBytes)}; disk: kernel blocks ${formatBytes(t.kernelBlockBytes)}, gradient factors if ` +
    `cached ${formatBytes(t.factorBytes)}, fine-tuning checkpoints ≈ ${formatBytes(t.checkpointBytes)}`
  );
}

/** The plan as text: a header, one tab-separated row per job, then the totals. */
function formatPlan(name: string, p: SweepPlan, shard?: Shard): string[] {
  const lines = [
    `# plan of ${name}: model ${p.modelDir}; Gemm probe ${p.gflops.toFixed(1)} GFLOP/s (load ${p.load.map((x) => x.toFixed(2)).join(" ")}); memory ${formatBytes(p.memoryBytes)} per job`,
    ["key", "task", "k", "seed", "method", "GFLOP", "seconds", "peak", "kernel blocks", "factors", "notes"].join("\t"),
  ];
  for (const e of p.jobs)
    lines.push(
      [
        e.job.key,
        e.job.task,
        e.job.k,
        e.job.seed,
        e.job.method,
        gflop(Object.values(e.flops).reduce((a, b) => a + b, 0)),
        e.seconds.toFixed(1),
        Number.isFinite(e.peakBytes) ? formatBytes(e.peakBytes) : "-",
        formatBytes(e.kernelBlockBytes),
        formatBytes(e.factorBytes),
        e.notes.join("; "),
      ].join("\t"),
    );
  if (shard && shard.count > 1) lines.push(totalsLine(`shard ${shard.index}/${shard.count}`, p.totals));
  lines.push(totalsLine("whole sweep", p.whole));
  p.shards?.forEach((t, i) => {
    lines.push(totalsLine(`  shard ${i + 1}/${p.shards!.length}`, t));
  });
  return lines;
}

interface SweepOpts {
  skipBadRows?: boolean;
  shard?: Shard;
  concurrency: number;
  out?: string;
  failFast?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
  plan?: boolean;
  planModel?: string;
  probeGflops?: number;
  memory?: number;
  device?: Device;
}

export function registerSweep(program: Command): void {
  program
    .command("sweep")
    .description(
      "run a sweep config (JSON or YAML): tasks × k × seeds × methods, resumable and shardable; " +
        "results go to OUT/records/<job key>.jsonl (merged into OUT/results.jsonl when an unsharded run completes)",
    )
    .argument("<config>", "sweep config file (.json, .yaml or .yml)")
    .addOption(
      new Option(
        "--shard <i/n>",
        "run only shard i of n (1-based), e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; " +
          "every job runs in exactly one shard and shards never write the same file",
      ).argParser(shardArg),
    )
    .addOption(
      new Option(
        "--concurrency <n>",
        "jobs run at once; kernel and fine-tuning jobs are CPU-bound and each already uses every core through " +
          "onnxruntime's intra-op threads, so more than 1 only adds memory and contention",
      )
        .argParser(positiveInt)
        .default(1),
    )
    .option(
      "--memory <size>",
      "memory budget of the whole sweep, e.g. 8GB, shared by the jobs running at once (default: the config's " +
        "`memory`, else half the RAM)",
      memoryArg,
    )
    .addOption(deviceOption(`the config's \`device\`, else ${DEFAULT_DEVICE}`))
    .option("--out <dir>", "output directory (default: the config's `out`)")
    .option("--fail-fast", "stop at the first failed job (default: run the rest, report failures at the end)")
    .option("--dry-run", "list the jobs (key, done or not) without running anything")
    .option(
      "--plan",
      "print each job's predicted GEMM FLOPs, peak memory, cache bytes and seconds here (cost model calibrated by a " +
        "few-second Gemm probe), the totals and, with --shard i/n, every shard's totals; runs nothing",
    )
    .option(
      "--plan-model <dir>",
      "with --plan: a model directory (config.json + tokenizer) to plan with instead of the config's model",
    )
    .addOption(
      new Option("--probe-gflops <rate>", "with --plan: assume this Gemm rate (GFLOP/s) instead of probing").argParser(
        positiveNumber,
      ),
    )
    .option("--skip-bad-rows", "skip malformed data rows with a warning instead of failing")
    .option("--quiet", "no progress bar")
    .addHelpText(
      "after",
      "\nFinished jobs (by content key) are skipped, so rerunning the same command after Ctrl-C or a kill resumes.\n" +
        "Ctrl-C once: no new job starts and running jobs stop; twice: exit at once. Finished records are never lost.",
    )
    .action(async (file: string, opts: SweepOpts) => {
      const config = loadSweepConfig(file);
      if (opts.plan) {
        const plan = await planSweep(config, {
          shard: opts.shard,
          memoryBytes: opts.memory,
          concurrency: opts.concurrency,
          modelDir: opts.planModel,
          gflops: opts.probeGflops,
        });
        writeOut(formatPlan(config.name, plan, opts.shard));
        return;
      }
      if (opts.dryRun) {
        const outDir = opts.out ?? resolveOutDir(config);
        const store = new ResultsStore(outDir);
        const jobs = selectShard(expandJobs(config), opts.shard ?? { index: 1, count: 1 });
        const lines = [`# config ${configHash(config)}, ${jobs.length} jobs, out ${outDir}`];
        for (const j of jobs)
          lines.push(
            `${j.key} ${store.has(j.key) ? "done" : "todo"} ${j.task} k=${j.k} seed=${j.seed} ${j.method} ${JSON.stringify(j.hyperparameters)}${Object.keys(j.grid).length ? ` grid=${JSON.stringify(j.grid)}` : ""}`,
          );
        writeOut(lines);
        return;
      }
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write("\nentk: interrupted: stopping (Ctrl-C again to exit now); rerun to resume\n");
          ac.abort();
        } else process.exit(130);
      };
      process.on("SIGINT", onSigint);
      try {
        const s = await runSweep(config, {
          shard: opts.shard,
          concurrency: opts.concurrency,
          outDir: opts.out,
          signal: ac.signal,
          quiet: opts.quiet,
          failFast: opts.failFast,
          skipBadRows: opts.skipBadRows,
          memoryBytes: opts.memory,
          device: opts.device,
        });
        process.stderr.write(
          `sweep: ${s.ran} jobs ran, ${s.alreadyDone} were already done, ${s.failed.length} failed (of ${s.inShard} in this shard); results in ${s.outDir}\n`,
        );
        if (s.interrupted) throw new Error("sweep interrupted; rerun the same command to resume");
        if (s.failed.length > 0)
          throw new Error(`${s.failed.length} job(s) failed; details in ${s.outDir}/failed/ (rerun to retry them)`);
      } finally {
        process.off("SIGINT", onSigint);
      }
    });
}
