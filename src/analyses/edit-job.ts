/**
 * Workflows of `entk arithmetic` and `entk disentangle`: load the base model θ₀, the task vectors and each task's
 * dev and test sets (prompt-encoded with the task's own template and label words), and build the edited model —
 * nonlinear, or linearized around θ₀ through exact JVPs (docs/analyses.md §2–3).
 */
import { join } from "node:path";
import { createJvpModel } from "../model/jvp.ts";
import { loadModel } from "../model/load.ts";
import { createPromptModel } from "../model/prompt-model.ts";
import type { Device } from "../model/runtime/providers.ts";
import { releaseSessions } from "../model/runtime/session.ts";
import type { LoadedWeights } from "../model/weights/types.ts";
import { loadPromptedSplits } from "../pipelines/prompted-splits.ts";
import type { TaskDef } from "../prompts/task.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { heatmap } from "../util/plots.ts";
import type { ArithmeticResult, DisentanglementResult } from "./arithmetic.ts";
import {
  type EditedModel,
  type Linearization,
  linearizedModel,
  nonlinearModel,
  type TaskEval,
} from "./edited-model.ts";
import { checkVectors, readTaskVector, type TaskVector } from "./task-vectors.ts";

export interface EditJobOptions {
  base: string;
  tasks: TaskDef[];
  splitDirs: string[];
  vectors: string[];
  /** Seeded subsample of N dev and N test examples per task. */
  limitEval?: number;
  device?: Device;
}

/** f₀ and J·τᵢ of one task's inputs for every vector (the linearized model's ingredients). */
export type LinearizeFn = (
  base: LoadedWeights,
  task: TaskEval,
  vectors: readonly TaskVector[],
  device?: Device,
) => Promise<Linearization>;

export interface EditSetup {
  base: LoadedWeights;
  vectors: TaskVector[];
  tasks: TaskEval[];
}

export async function loadEditSetup(o: EditJobOptions): Promise<EditSetup> {
  if (o.tasks.length !== o.splitDirs.length)
    throw new Error(`${o.tasks.length} tasks but ${o.splitDirs.length} split directories`);
  if (o.tasks.length !== o.vectors.length)
    throw new Error(`${o.tasks.length} tasks but ${o.vectors.length} task vectors`);
  const base = await loadModel(o.base);
  const vectors = o.vectors.map(readTaskVector);
  checkVectors(base, vectors);
  const tok = await loadTokenizer(base.source.dir);
  const tasks = o.tasks.map((task, i): TaskEval => {
    const d = loadPromptedSplits(task, o.splitDirs[i], tok, {
      splits: ["dev", "test"],
      limitEval: o.limitEval,
      nonEmpty: true,
    });
    const xs = [...d.splits.dev!, ...d.splits.test!];
    return {
      name: task.name,
      metric: d.metric,
      labelWordIds: d.labelWordIds,
      inputs: xs.map(({ inputIds, maskPos }) => ({ inputIds, maskPos })),
      labels: Int32Array.from(xs.map((x) => x.label)),
      nDev: d.splits.dev!.length,
    };
  });
  return { base, vectors, tasks };
}

/** The nonlinear edited model: θ₀ + Σ αᵢτᵢ materialized per α, each task through its own prompt model. */
export function nonlinearEdits(s: EditSetup, device?: Device): EditedModel {
  return nonlinearModel(
    s.base,
    s.vectors,
    s.tasks,
    async (w, ids, inputs) => createPromptModel(w, ids, { device }).logits(inputs),
    releaseSessions,
  );
}

/** f₀ and Jτᵢ by exact forward-mode JVPs at θ₀ (src/model/jvp.ts): one JVP pass per vector over the task's inputs. */
export const jvpLinearize: LinearizeFn = async (base, task, vectors, device) => {
  const m = createJvpModel(base, task.labelWordIds, { device });
  let f0: Float64Array | undefined;
  const jtau: Float64Array[] = [];
  for (const v of vectors) {
    const r = await m.jvp(task.inputs, v.tensors);
    f0 ??= r.f;
    jtau.push(r.jv);
  }
  return { f0: f0 ?? new Float64Array(0), jtau };
};

/** The linearized edited model f₀ + Σ αᵢ Jτᵢ, with `linearize` giving f₀ and the JVPs once per task. */
export async function linearizedEdits(
  s: EditSetup,
  device?: Device,
  linearize: LinearizeFn = jvpLinearize,
): Promise<EditedModel> {
  const lin: Linearization[] = [];
  for (const t of s.tasks) lin.push(await linearize(s.base, t, s.vectors, device));
  return linearizedModel(s.tasks, lin);
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : "—");

/** A markdown summary of a task-arithmetic result. */
export function arithmeticMarkdown(r: ArithmeticResult, mode: string): string {
  const lines = [
    `## Task arithmetic (${mode})`,
    "",
    `Addition: α = ${r.addition.alpha} on every task vector (chosen on dev by the mean normalized score).`,
    "",
    "| task | metric | zero-shot test | fine-tuned test | edited test | normalized test |",
    "|---|---|---|---|---|---|",
    ...r.tasks.map(
      (t, i) =>
        `| ${t} | ${r.metrics[i]} | ${pct(r.zeroShot.test[i])} | ${pct(r.finetuned.test[i])} | ${pct(r.addition.test.absolute[i])} | ${pct(r.addition.test.normalized[i])} |`,
    ),
    "",
    `Negation: θ₀ − α τ_target, controls keeping ≥ ${100 * (r.negation[0]?.controlShare ?? 0.95)}% of their zero-shot dev score.`,
    "",
    "| target | α | target test (zero-shot → negated) | controls test (zero-shot → negated) |",
    "|---|---|---|---|",
    ...r.negation.map(
      (n) =>
        `| ${n.target} | ${n.alpha ?? "none kept the controls"} | ${pct(n.zeroShotTest.target)} → ${n.test ? pct(n.test.target) : "—"} | ${n.zeroShotTest.controls.map(pct).join(", ")} → ${n.test ? n.test.controls.map(pct).join(", ") : "—"} |`,
    ),
    "",
  ];
  return lines.join("\n");
}

export async function writeArithmetic(dir: string, results: Record<string, ArithmeticResult>): Promise<void> {
  await writeFileAtomic(join(dir, "arithmetic.json"), `${JSON.stringify(results, null, 2)}\n`);
  const md = Object.entries(results).map(([mode, r]) => arithmeticMarkdown(r, mode));
  await writeFileAtomic(join(dir, "arithmetic.md"), `# Task arithmetic\n\n${md.join("\n")}`);
}

export async function writeDisentanglement(dir: string, results: Record<string, DisentanglementResult>): Promise<void> {
  await writeFileAtomic(join(dir, "disentangle.json"), `${JSON.stringify(results, null, 2)}\n`);
  for (const [mode, r] of Object.entries(results)) {
    const svg = heatmap({
      title: `Weight disentanglement error ξ (${mode}): ${r.tasks[0]} + ${r.tasks[1]}, mean ${r.mean.toFixed(3)}`,
      xLabel: `α₁ (${r.tasks[0]})`,
      yLabel: `α₂ (${r.tasks[1]})`,
      xTicks: r.grid,
      yTicks: r.grid,
      values: r.xi,
      min: 0,
      max: 2,
    });
    await writeFileAtomic(join(dir, `disentangle.${mode}.svg`), svg);
  }
}
