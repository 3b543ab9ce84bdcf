/**
 * `entk localization` as a library call: the eNTK at θ₀ over the union of two tasks' training examples (each with
 * its own prompt and label words), its eigendecomposition, and the local energy of the top-k eigenfunctions on each
 * task, on training rows and on held-out rows through the Nyström extension (localization.ts, docs/analyses.md §4).
 */
import { join } from "node:path";
import { readSplit } from "../data/readers.ts";
import { subsample } from "../data/subsample.ts";
import { computeKernels } from "../kernels/compute.ts";
import { modelFactorSource } from "../kernels/model-source.ts";
import { loadModel } from "../model/load.ts";
import { createPromptModel } from "../model/prompt-model.ts";
import type { Device } from "../model/runtime/providers.ts";
import { taskEncoder } from "../prompts/encode.ts";
import type { TaskDef } from "../prompts/task.ts";
import type { EncodedExample } from "../prompts/template.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { scatterPlot } from "../util/plots.ts";
import { type LocalizationResult, localEnergies } from "./localization.ts";

export interface LocalizationOptions {
  model: string;
  tasks: [TaskDef, TaskDef];
  splitDirs: [string, string];
  /** Training examples per task (a seeded subsample of each train file; default all). */
  n?: number;
  /** Held-out split and examples per task for the Nyström extension (default test, 64; 0 = none). */
  heldoutSplit?: "dev" | "test";
  heldout?: number;
  topK?: number;
  device?: Device;
  out?: string;
}

export interface LocalizationReport extends LocalizationResult {
  model: { id: string; weights_hash: string };
  tasks: [string, string];
  label_word_ids: [number[], number[]];
  examples: { train: [number, number]; heldout: [number, number] };
}

interface Tagged {
  x: EncodedExample;
  task: 0 | 1;
}

/** Rows (example, union column) that belong to the example's own task, in example order. */
function rowSelection(xs: readonly Tagged[], cols: [number[], number[]]): { index: number[]; task: Uint8Array } {
  const C = new Set([...cols[0], ...cols[1]]).size;
  const index: number[] = [];
  const task: number[] = [];
  xs.forEach((e, i) => {
    for (const c of cols[e.task]) {
      index.push(i * C + c);
      task.push(e.task);
    }
  });
  return { index, task: Uint8Array.from(task) };
}

export async function runLocalization(o: LocalizationOptions): Promise<LocalizationReport> {
  const weights = await loadModel(o.model);
  const tok = await loadTokenizer(weights.source.dir);
  const encs = o.tasks.map((t) => taskEncoder(tok, t));
  // One model over the union of both tasks' label words; each example keeps only its own task's outputs.
  const union = [...new Set([...encs[0].labelWordIds, ...encs[1].labelWordIds])];
  const cols = encs.map((e) => e.labelWordIds.map((id) => union.indexOf(id))) as [number[], number[]];
  const heldoutSplit = o.heldoutSplit ?? "test";
  const nHeld = o.heldout ?? 64;
  const load = (split: "train" | "dev" | "test", n: number | undefined): Tagged[] =>
    o.tasks.flatMap((t, ti) => {
      let exs = readSplit(o.splitDirs[ti], t.data, split, t.labels).examples;
      if (n !== undefined && n < exs.length) exs = subsample(exs, n);
      return exs.map((e) => ({ x: encs[ti].encode(e), task: ti as 0 | 1 }));
    });
  const train = load("train", o.n);
  const held = nHeld > 0 ? load(heldoutSplit, nHeld) : [];
  const model = createPromptModel(weights, union, { binary: false, device: o.device });
  const key = { weightsHash: weights.hash, labelWordIds: union, binary: false };
  const res = await computeKernels(
    modelFactorSource(
      model,
      train.map((e) => e.x),
      key,
    ),
    held.length
      ? {
          heldout: modelFactorSource(
            model,
            held.map((e) => e.x),
            key,
          ),
        }
      : {},
    { formulas: ["sgd"], params: model.params(), quiet: true },
  );
  const Cu = union.length;
  const tr = rowSelection(train, cols);
  const P = tr.index.length;
  const Kfull = res.kernels.train.sgd!;
  const N = train.length * Cu;
  const K = new Float64Array(P * P);
  tr.index.forEach((a, i) => {
    for (let j = 0; j < P; j++) K[i * P + j] = Kfull[a * N + tr.index[j]];
  });
  let heldout: { K: Float64Array; task: Uint8Array } | undefined;
  if (held.length) {
    const ho = rowSelection(held, cols);
    const M = held.length * Cu;
    const Kx = res.kernels.heldout.sgd!; // [n_train, C, n_held, C]: row = train (example, col), column = held-out
    const Q = ho.index.length;
    const Kho = new Float64Array(Q * P);
    ho.index.forEach((b, q) => {
      for (let r = 0; r < P; r++) Kho[q * P + r] = Kx[tr.index[r] * M + b];
    });
    heldout = { K: Kho, task: ho.task };
  }
  const result = localEnergies(K, tr.task, o.topK ?? 20, heldout);
  const count = (xs: Tagged[]): [number, number] => [
    xs.filter((e) => e.task === 0).length,
    xs.filter((e) => e.task === 1).length,
  ];
  const report: LocalizationReport = {
    model: { id: weights.source.repoId ?? o.model, weights_hash: weights.hash },
    tasks: [o.tasks[0].name, o.tasks[1].name],
    label_word_ids: [encs[0].labelWordIds, encs[1].labelWordIds],
    examples: { train: count(train), heldout: count(held) },
    ...result,
  };
  if (o.out) await writeLocalization(o.out, report);
  return report;
}

/** `localization.json` and `localization.svg` (energy on task A vs task B per eigenfunction) in `dir`. */
export async function writeLocalization(dir: string, r: LocalizationReport): Promise<void> {
  await writeFileAtomic(join(dir, "localization.json"), `${JSON.stringify(r, null, 2)}\n`);
  const series = [
    {
      label: "train rows",
      points: r.top.map((t) => ({
        x: t.train.energy[0],
        y: t.train.energy[1],
        tip: `φ${t.k} (train): λ = ${t.eigenvalue.toPrecision(4)}`,
      })),
    },
  ];
  if (r.top.some((t) => t.heldout))
    series.push({
      label: "held-out (Nyström)",
      points: r.top
        .filter((t) => t.heldout)
        .map((t) => ({
          x: t.heldout!.energy[0],
          y: t.heldout!.energy[1],
          tip: `φ${t.k} (held-out): λ = ${t.eigenvalue.toPrecision(4)}`,
        })),
    });
  const svg = scatterPlot({
    title: `eNTK eigenfunction localization: ${r.tasks[0]} vs ${r.tasks[1]} (top ${r.top.length})`,
    xLabel: `local energy on ${r.tasks[0]}`,
    yLabel: `local energy on ${r.tasks[1]}`,
    series,
  });
  await writeFileAtomic(join(dir, "localization.svg"), svg);
}
