import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type FetchDatasetsOptions, fetchDatasets, LMBFF_DATASETS_URL } from "../../data/fetch.ts";
import { DEFAULT_SEEDS, generateKShot, KSHOT_MODES, type KShotMode, type KShotTask } from "../../data/kshot.ts";
import { listTasks, loadTask } from "../../prompts/task.ts";
import { intArg, listArg, seedArg, taskFromFlag } from "../args.ts";

export const SST2_NAMING_NOTE = `SST-2 naming: "SST-2" is LM-BFF's original/SST-2 (6,920 sentence-level train examples; LM-BFF's
official 16-shot splits and md5s come from it). "GLUE-SST-2" is the same task and prompt on GLUE's files
(67,349 phrases), the kernel paper's "SST-2": its download script renames GLUE-SST-2 to SST-2, which
\`entk data fetch --kernel-paper\` does too (after it, the SST-2 folder holds GLUE's files).`;

/** `--tasks all` = every bundled task whose original train file is in the data dir. */
function resolveSplitTasks(cmd: Command, spec: string, dataDir: string): { tasks: KShotTask[]; missing: string[] } {
  if (spec.toLowerCase() === "all") {
    const tasks: KShotTask[] = [];
    const missing: string[] = [];
    for (const n of listTasks()) {
      const t = loadTask(n);
      if (existsSync(join(dataDir, t.data.dir, t.data.original.train))) tasks.push({ name: t.name, layout: t.data });
      else missing.push(t.name);
    }
    if (tasks.length === 0)
      throw new Error(`${dataDir}: no task's original train file found (is it LM-BFF's original/ folder?)`);
    return { tasks, missing };
  }
  const tasks = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((n) => {
      const t = taskFromFlag(cmd, n);
      return { name: t.name, layout: t.data };
    });
  return { tasks, missing: [] };
}

export function registerData(program: Command): void {
  const data = program.command("data").addHelpText("after", `\n${SST2_NAMING_NOTE}`);

  data
    .command("split")
    .description("generate k-shot splits byte-identical to LM-BFF's tools/generate_k_shot_data.py")
    .option("--data-dir <dir>", "LM-BFF's original/ folder", "data/original")
    .option("--k <n>", "examples per label in train (and in dev)", intArg(1), 16)
    .addOption(
      new Option("--seeds <list>", "comma-separated seeds")
        .argParser(listArg(seedArg, "seeds"))
        .default([...DEFAULT_SEEDS], DEFAULT_SEEDS.join(",")),
    )
    .addOption(new Option("--mode <mode>", "split mode").choices([...KSHOT_MODES]).default("k-shot"))
    .option("--tasks <list>", "comma-separated task names (case-insensitive) or 'all'", "all")
    .option("--out <dir>", "output root; files go to <out>/<mode>/<TASK>/<k>-<seed>/", "data")
    .addHelpText(
      "after",
      `\nExample:\n  entk data split --data-dir data/original --k 16 --seeds 13,21,42,87,100 --mode k-shot --tasks all --out DIR\n\n${SST2_NAMING_NOTE}`,
    )
    .action(
      async (
        o: { dataDir: string; k: number; seeds: number[]; mode: KShotMode; tasks: string; out: string },
        cmd: Command,
      ) => {
        const { tasks, missing } = resolveSplitTasks(cmd, o.tasks, o.dataDir);
        if (missing.length > 0)
          process.stderr.write(`entk: skipping tasks without data in ${o.dataDir}: ${missing.join(", ")}\n`);
        const files = await generateKShot({
          dataDir: o.dataDir,
          outDir: o.out,
          k: o.k,
          seeds: o.seeds,
          mode: o.mode,
          tasks,
        });
        for (const t of tasks)
          process.stdout.write(
            `${t.name}: ${o.seeds.length} seeds -> ${join(o.out, o.mode, t.name)}/${o.k}-{${o.seeds.join(",")}}\n`,
          );
        process.stdout.write(`${files.length} files written\n`);
      },
    );

  data
    .command("fetch")
    .description("download LM-BFF's datasets.tar (resumable), verify it and extract original/")
    .option("--out <dir>", "folder that receives original/ (and datasets.tar)", "data")
    .option("--url <url>", "datasets.tar URL", LMBFF_DATASETS_URL)
    .option("--tar <file>", "use a local datasets.tar instead of downloading")
    .option("--md5 <hex>", "expected md5 of datasets.tar (default: not checked)", (v: string) => {
      if (!/^[0-9a-fA-F]{32}$/.test(v)) throw new InvalidArgumentError(`--md5 must be 32 hex digits, got "${v}"`);
      return v;
    })
    .option(
      "--kernel-paper",
      "apply the kernel paper's changes: SST-2 <-> GLUE-SST-2 swap, CR re-split (250 test/class)",
    )
    .option("--force", "replace an existing <out>/original")
    .option("--quiet", "no progress bar")
    .addHelpText("after", `\n${SST2_NAMING_NOTE}`)
    .action(async ({ out, ...o }: Omit<FetchDatasetsOptions, "outDir"> & { out: string }) => {
      const target = await fetchDatasets({ outDir: out, ...o });
      process.stdout.write(
        `${target}${o.kernelPaper ? " (kernel-paper layout: SST-2 = GLUE files, CR re-split)" : ""}\n`,
      );
    });
}
