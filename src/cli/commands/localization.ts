import { type Command, Option } from "commander";
import { LOCALIZED_SHARE } from "../../analyses/localization.ts";
import { runLocalization } from "../../analyses/localization-job.ts";
import type { Device } from "../../model/runtime/providers.ts";
import { deviceOption, intArg, listArg, taskFromFlag, usageError } from "../args.ts";

const names = listArg((s: string) => s, "names");

interface Flags {
  model: string;
  tasks: string[];
  splitDirs: string[];
  n?: number;
  heldout: number;
  heldoutSplit: "dev" | "test";
  topK: number;
  device: Device;
  out: string;
  json?: boolean;
}

export function registerLocalization(program: Command): void {
  program
    .command("localization")
    .description(
      "eNTK at θ₀ over the union of two tasks' training examples, its eigendecomposition, and the local energy of " +
        "the top-k eigenfunctions on each task, on training rows and on held-out rows (Nyström); docs/analyses.md §4",
    )
    .requiredOption("--model <model>", "model directory or Hub repo id")
    .requiredOption("--tasks <a,b>", "two tasks (names or task .json paths)", names)
    .requiredOption("--split-dirs <a,b>", "the two tasks' split directories, in the same order", names)
    .option("--n <n>", "training examples per task (seeded subsample; default all)", intArg(1))
    .option("--heldout <n>", "held-out examples per task for the Nyström extension (0 = none)", intArg(0), 64)
    .addOption(new Option("--heldout-split <split>", "held-out split").choices(["dev", "test"]).default("test"))
    .option("--top-k <k>", "eigenfunctions to report", intArg(1), 20)
    .addOption(deviceOption())
    .requiredOption("--out <dir>", "output directory (localization.json, localization.svg)")
    .option("--json", "print the JSON report")
    .action(async (f: Flags, cmd: Command) => {
      if (f.tasks.length !== 2) usageError(cmd, `--tasks needs exactly two tasks, got ${f.tasks.length}`);
      if (f.splitDirs.length !== 2)
        usageError(cmd, `--split-dirs needs exactly two directories, got ${f.splitDirs.length}`);
      const tasks = [taskFromFlag(cmd, f.tasks[0]), taskFromFlag(cmd, f.tasks[1])] as const;
      const r = await runLocalization({
        model: f.model,
        tasks: [tasks[0], tasks[1]],
        splitDirs: [f.splitDirs[0], f.splitDirs[1]],
        n: f.n,
        heldout: f.heldout,
        heldoutSplit: f.heldoutSplit,
        topK: f.topK,
        device: f.device,
        out: f.out,
      });
      if (f.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const [a, b] = r.tasks;
      const lines = [
        `eNTK over ${r.rows.train[0]} ${a} + ${r.rows.train[1]} ${b} training rows (example × label word); top ${r.top.length} eigenfunctions`,
        `localized (share ≥ ${LOCALIZED_SHARE}) on training rows: ${r.localized.train[0]} on ${a}, ${r.localized.train[1]} on ${b}`,
      ];
      if (r.localized.heldout)
        lines.push(
          `localized on held-out rows (Nyström): ${r.localized.heldout[0]} on ${a}, ${r.localized.heldout[1]} on ${b}`,
        );
      lines.push(`→ ${f.out}/localization.json, localization.svg`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
