import { type Command, Option } from "commander";
import {
  type ArithmeticResult,
  type DisentanglementResult,
  disentanglement,
  linspace,
  taskArithmetic,
} from "../../analyses/arithmetic.ts";
import {
  type EditSetup,
  linearizedEdits,
  loadEditSetup,
  nonlinearEdits,
  writeArithmetic,
  writeDisentanglement,
} from "../../analyses/edit-job.ts";
import type { EditedModel } from "../../analyses/edited-model.ts";
import { TaskVectorError } from "../../analyses/task-vectors.ts";
import type { Device } from "../../model/runtime/providers.ts";
import { progressBar } from "../../util/progress.ts";
import { deviceOption, intArg, listArg, taskFromFlag, usageError } from "../args.ts";

const list = listArg((s: string) => s, "values");

interface Common {
  base: string;
  tasks: string[];
  vectors: string[];
  splitDirs: string[];
  limitEval?: number;
  device: Device;
  out: string;
  quiet?: boolean;
}

const MODES = ["nonlinear", "linearized"] as const;
type Mode = (typeof MODES)[number];

function addCommon(cmd: Command): Command {
  return cmd
    .requiredOption("--base <model>", "base model θ₀ (directory or Hub repo id)")
    .requiredOption("--tasks <list>", "tasks, comma-separated (names or task .json paths)", list)
    .requiredOption("--vectors <list>", "one task vector per task (`entk task-vector`), same order", list)
    .requiredOption("--split-dirs <list>", "one split directory per task (dev and test are read), same order", list)
    .option("--limit-eval <n>", "seeded subsample of N dev and N test examples per task", intArg(1))
    .addOption(deviceOption())
    .requiredOption("--out <dir>", "output directory")
    .option("--quiet", "no progress bar");
}

async function setup(cmd: Command, f: Common): Promise<EditSetup> {
  if (f.vectors.length !== f.tasks.length || f.splitDirs.length !== f.tasks.length)
    usageError(
      cmd,
      `--tasks, --vectors and --split-dirs need the same length (${f.tasks.length}, ${f.vectors.length}, ${f.splitDirs.length})`,
    );
  const tasks = f.tasks.map((t) => taskFromFlag(cmd, t));
  try {
    return await loadEditSetup({
      base: f.base,
      tasks,
      splitDirs: f.splitDirs,
      vectors: f.vectors,
      limitEval: f.limitEval,
      device: f.device,
    });
  } catch (err) {
    if (err instanceof TaskVectorError) usageError(cmd, err.message);
    throw err;
  }
}

async function edited(s: EditSetup, mode: Mode, device: Device): Promise<EditedModel> {
  return mode === "linearized" ? linearizedEdits(s, device) : nonlinearEdits(s, device);
}

export function registerArithmetic(program: Command): void {
  addCommon(
    program
      .command("arithmetic")
      .description(
        "task addition (one α from linspace(0, 1, 21) chosen on dev by the mean normalized score) and negation " +
          "(controls keep ≥ 95% of their zero-shot dev score) of task vectors; docs/analyses.md §2",
      ),
  )
    .option("--linearized", "evaluate f₀ + J·(Σ αᵢτᵢ) (exact JVPs at θ₀) instead of f(θ₀ + Σ αᵢτᵢ)")
    .option("--both", "evaluate both the nonlinear and the linearized model")
    .action(async (f: Common & { linearized?: boolean; both?: boolean }, cmd: Command) => {
      const s = await setup(cmd, f);
      const modes: Mode[] = f.both ? [...MODES] : [f.linearized ? "linearized" : "nonlinear"];
      const results: Record<string, ArithmeticResult> = {};
      for (const mode of modes) {
        const k = s.tasks.length;
        const bar = progressBar(`arithmetic (${mode})`, 1 + k + 21 * (1 + k), { quiet: f.quiet, unit: "edits" });
        let last = 0;
        results[mode] = await taskArithmetic(await edited(s, mode, f.device), {
          onProgress: (d) => {
            bar.tick(d - last);
            last = d;
          },
        });
        bar.stop();
      }
      await writeArithmetic(f.out, results);
      for (const [mode, r] of Object.entries(results)) {
        const add = r.tasks.map((t, i) => `${t} ${(100 * r.addition.test.normalized[i]).toFixed(1)}%`).join(", ");
        process.stdout.write(`${mode}: addition α = ${r.addition.alpha}, normalized test ${add}\n`);
      }
      process.stdout.write(`→ ${f.out}/arithmetic.json, arithmetic.md\n`);
    });

  addCommon(
    program
      .command("disentangle")
      .description(
        "weight disentanglement error ξ(α₁, α₂) = Σ_t E_x∼t 1{pred(θ₀ + α_t τ_t) ≠ pred(θ₀ + α₁τ₁ + α₂τ₂)} on a grid over [−3, 3]², for the " +
          "nonlinear and the linearized model; JSON and an SVG heatmap per model (docs/analyses.md §3)",
      ),
  )
    .option("--grid <n>", "grid points per axis over [−3, 3]", intArg(2, 101), 13)
    .addOption(new Option("--models <list>", "which models").default("nonlinear,linearized"))
    .action(async (f: Common & { grid: number; models: string }, cmd: Command) => {
      const modes = f.models.split(",").map((m) => m.trim());
      for (const m of modes)
        if (!(MODES as readonly string[]).includes(m))
          usageError(cmd, `--models: unknown model "${m}" (nonlinear, linearized)`);
      const s = await setup(cmd, f);
      if (s.tasks.length !== 2) usageError(cmd, `disentangle needs exactly two tasks, got ${s.tasks.length}`);
      const grid = linspace(-3, 3, f.grid);
      const results: Record<string, DisentanglementResult> = {};
      for (const mode of modes as Mode[]) {
        const bar = progressBar(`ξ (${mode})`, 2 * f.grid + f.grid * f.grid, { quiet: f.quiet, unit: "points" });
        let last = 0;
        results[mode] = await disentanglement(await edited(s, mode, f.device), grid, (d) => {
          bar.tick(d - last);
          last = d;
        });
        bar.stop();
      }
      await writeDisentanglement(f.out, results);
      for (const [mode, r] of Object.entries(results))
        process.stdout.write(`${mode}: mean ξ over the ${f.grid}×${f.grid} grid = ${r.mean.toFixed(4)}\n`);
      process.stdout.write(`→ ${f.out}/disentangle.json, disentangle.<model>.svg\n`);
    });
}
