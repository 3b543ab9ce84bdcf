/**
 * `entk dynamics` as a library call: the linearized model's outputs over training time predicted from a kernel
 * directory (dynamics.ts), optionally set side by side with a fine-tuning run that logged its logits
 * (`entk finetune --log-logits-every K`): RMSE of the logits and accuracy per logged step, SVG plots, a JSON summary.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { classificationMetrics, predictLabels } from "../data/metrics.ts";
import { readSolverInputs } from "../solvers/kernel-dir.ts";
import { logitLogPath } from "../training/logit-log.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { OptionError } from "../util/errors.ts";
import { readNpy, writeNpy } from "../util/npy.ts";
import { lineChart } from "../util/plots.ts";
import { type DynamicsLoss, type LinearDynamicsProblem, linearSchedule, predictDynamics } from "./dynamics.ts";

export interface DynamicsJobOptions {
  /** A kernel directory written by `entk kernel` (train–train and train–eval kernels, labels, f₀ logits). */
  kernels: string;
  /** Kernel formula (default sgd: the eNTK that gradient descent follows). */
  formula?: string;
  lr: number;
  steps: number;
  loss: DynamicsLoss;
  /** "linear" (default): η decays linearly to 0 over `steps`, as `entk finetune` schedules it; or "constant". */
  schedule?: "linear" | "constant";
  /** Report every N steps (default: N = steps/50, at least 1); with `compare`, the run's logged steps instead. */
  every?: number;
  /** A fine-tuning output directory with logits/step-<t>.<split>.npy. */
  compare?: string;
  out?: string;
}

export interface SplitDynamics {
  n: number;
  /** Task metric of the kernel-predicted outputs at each step. */
  predicted: Record<string, number>[];
  /** With `compare`: the run's metrics, the RMSE between predicted and actual outputs, and the RMS movement of the actual outputs since step 0 (the scale the RMSE is small against). */
  finetune?: { metrics: Record<string, number>[]; rmse: number[]; moved: number[] };
}

export interface DynamicsSummary {
  kernels: string;
  formula: string;
  loss: DynamicsLoss;
  lr: number;
  schedule: "linear" | "constant";
  steps: number[];
  C: number;
  binary: boolean;
  compare?: string;
  splits: Record<string, SplitDynamics>;
}

/** Steps at which a run logged logits (from logits/step-<t>.train.npy), ascending. */
export function loggedSteps(ftDir: string): number[] {
  const dir = join(ftDir, "logits");
  if (!existsSync(dir))
    throw new OptionError(
      "logLogitsEvery",
      (n) => `${dir}: missing (fine-tune with ${n("logLogitsEvery")} K to log the logits over steps)`,
    );
  return readdirSync(dir)
    .map((f) => /^step-(\d+)\.train\.npy$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** A run's logits as the kernel's outputs f ([n·C]; binary: z₁ − z₀ from its two label-word logits). */
function runOutputs(path: string, n: number, C: number): Float64Array {
  const a = readNpy(path);
  const [rows, K] = a.shape;
  if (a.shape.length !== 2 || rows !== n || (C === 1 ? K !== 2 : K !== C))
    throw new Error(
      `${path}: shape [${a.shape}], expected [${n}, ${C === 1 ? 2 : C}] to match the kernel directory's examples`,
    );
  const d = a.data as Float32Array;
  return C === 1 ? Float64Array.from({ length: n }, (_, i) => d[2 * i + 1] - d[2 * i]) : Float64Array.from(d);
}

const rms = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / Math.max(1, a.length));
};

export async function runDynamics(o: DynamicsJobOptions): Promise<DynamicsSummary> {
  const formula = o.formula ?? "sgd";
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new Error(`dynamics: lr must be a positive number, got ${o.lr}`);
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new Error(`dynamics: steps must be an integer ≥ 1, got ${o.steps}`);
  const inp = readSolverInputs(o.kernels, formula, { needLogits: true });
  const train = inp.splits.train!;
  const evalNames = (["dev", "test"] as const).filter((s) => inp.splits[s]);
  const problem: LinearDynamicsProblem = {
    Ktrain: train.K,
    f0: train.f0!,
    evals: Object.fromEntries(evalNames.map((s) => [s, { K: inp.splits[s]!.K, f0: inp.splits[s]!.f0! }])),
    labels: train.labels,
    C: inp.C,
  };
  let steps: number[];
  if (o.compare) {
    steps = loggedSteps(o.compare).filter((s) => s <= o.steps);
    if (steps.length === 0) throw new Error(`${join(o.compare, "logits")}: no logged step in [0, ${o.steps}]`);
  } else {
    const every = o.every ?? Math.max(1, Math.floor(o.steps / 50));
    steps = [];
    for (let s = 0; s < o.steps; s += every) steps.push(s);
    steps.push(o.steps);
  }
  const schedule = o.schedule ?? "linear";
  const traj = predictDynamics(problem, o.loss, schedule === "linear" ? linearSchedule(o.lr, o.steps) : o.lr, steps);
  const summary: DynamicsSummary = {
    kernels: o.kernels,
    formula,
    loss: o.loss,
    lr: o.lr,
    schedule,
    steps,
    C: inp.C,
    binary: inp.binary,
    ...(o.compare ? { compare: o.compare } : {}),
    splits: {},
  };
  for (const split of ["train", ...evalNames] as const) {
    const sp = inp.splits[split]!;
    const metrics = (f: ArrayLike<number>) =>
      classificationMetrics(predictLabels(f, sp.n, inp.C), sp.labels, inp.metric);
    const r: SplitDynamics = { n: sp.n, predicted: traj[split].map(metrics) };
    if (o.compare && existsSync(logitLogPath(o.compare, steps[0], split))) {
      const actual = steps.map((s) => runOutputs(logitLogPath(o.compare!, s, split), sp.n, inp.C));
      r.finetune = {
        metrics: actual.map(metrics),
        rmse: actual.map((a, k) => rms(a, traj[split][k])),
        moved: actual.map((a) => rms(a, actual[0])),
      };
    }
    summary.splits[split] = r;
    if (o.out) {
      await mkdir(o.out, { recursive: true });
      const flat = new Float32Array(steps.length * sp.n * inp.C);
      traj[split].forEach((f, k) => {
        flat.set(f, k * sp.n * inp.C);
      });
      await writeNpy(join(o.out, `pred.${split}.npy`), flat, [steps.length, sp.n, inp.C]);
    }
  }
  if (o.out) {
    await writeFileAtomic(join(o.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFileAtomic(join(o.out, "dynamics.svg"), dynamicsChart(summary));
  }
  return summary;
}

/** Accuracy over steps per split (solid: kernel prediction, dashed: the fine-tuning run), then the RMSE chart. */
export function dynamicsChart(s: DynamicsSummary): string {
  const entries = Object.entries(s.splits);
  const acc = lineChart({
    title: `Linearized ${s.loss.toUpperCase()} dynamics (lr ${s.lr}) vs fine-tuning: accuracy`,
    xLabel: "step",
    yLabel: "accuracy (%)",
    yMin: 0,
    yMax: 100,
    series: entries.flatMap(([name, r], i) => [
      { label: `${name}: kernel`, x: s.steps, y: r.predicted.map((m) => 100 * m.acc), color: i },
      ...(r.finetune
        ? [
            {
              label: `${name}: fine-tuning`,
              x: s.steps,
              y: r.finetune.metrics.map((m) => 100 * m.acc),
              color: i,
              dashed: true,
            },
          ]
        : []),
    ]),
  });
  if (!entries.some(([, r]) => r.finetune)) return acc;
  const rmse = lineChart({
    title: "RMSE of the logits: kernel prediction vs fine-tuning (dashed: RMS movement of the run's logits)",
    xLabel: "step",
    yLabel: "RMSE",
    series: entries.flatMap(([name, r], i) =>
      r.finetune
        ? [
            { label: `${name}: RMSE`, x: s.steps, y: r.finetune.rmse, color: i },
            { label: `${name}: movement`, x: s.steps, y: r.finetune.moved, color: i, dashed: true },
          ]
        : [],
    ),
  });
  // Two charts stacked in one SVG document.
  const inner = (svg: string) => svg.replace(/^<svg[^>]*>\n/, "").replace(/<\/svg>\n$/, "");
  const height = (svg: string) => Number(/height="(\d+)"/.exec(svg)![1]);
  const width = Number(/width="(\d+)"/.exec(acc)![1]);
  const h1 = height(acc);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h1 + height(rmse)}" font-family="sans-serif" font-size="11">`,
    `<g>${inner(acc)}</g>`,
    `<g transform="translate(0 ${h1})">${inner(rmse)}</g>`,
    "</svg>\n",
  ].join("\n");
}
