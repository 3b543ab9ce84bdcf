import { type Command, Option } from "commander";
import { configHash, loadSweepConfig, resolveOutDir } from "../../experiments/config.ts";
import { expandJobs } from "../../experiments/jobs.ts";
import { runSweep } from "../../experiments/runner.ts";
import { parseShard, type Shard, selectShard } from "../../experiments/shard.ts";
import { ResultsStore } from "../../experiments/store.ts";
import { DEFAULT_DEVICE, type Device } from "../../model/runtime/providers.ts";
import { deviceOption, intArg, memoryArg } from "../args.ts";
import { flagParser } from "../option-errors.ts";

const shardArg: (v: string) => Shard = flagParser(parseShard);

const positiveInt = intArg(1);

interface SweepOpts {
  skipBadRows?: boolean;
  shard?: Shard;
  concurrency: number;
  out?: string;
  failFast?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
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
    .option("--skip-bad-rows", "skip malformed data rows with a warning instead of failing")
    .option("--quiet", "no progress bar")
    .addHelpText(
      "after",
      "\nFinished jobs (by content key) are skipped, so rerunning the same command after Ctrl-C or a kill resumes.\n" +
        "Ctrl-C once: no new job starts and running jobs stop; twice: exit at once. Finished records are never lost.",
    )
    .action(async (file: string, opts: SweepOpts) => {
      const config = loadSweepConfig(file);
      if (opts.dryRun) {
        const outDir = opts.out ?? resolveOutDir(config);
        const store = new ResultsStore(outDir);
        const jobs = selectShard(expandJobs(config), opts.shard ?? { index: 1, count: 1 });
        const lines = [`# config ${configHash(config)}, ${jobs.length} jobs, out ${outDir}`];
        for (const j of jobs)
          lines.push(
            `${j.key} ${store.has(j.key) ? "done" : "todo"} ${j.task} k=${j.k} seed=${j.seed} ${j.method} ${JSON.stringify(j.hyperparameters)}${Object.keys(j.grid).length ? ` grid=${JSON.stringify(j.grid)}` : ""}`,
          );
        // `entk sweep --dry-run | head` closes the pipe early: that is not an error.
        process.stdout.on("error", (e: NodeJS.ErrnoException) => {
          if (e.code !== "EPIPE") throw e;
        });
        process.stdout.write(`${lines.join("\n")}\n`);
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
