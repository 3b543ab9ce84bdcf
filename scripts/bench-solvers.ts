/**
 * Solver benchmark (issue 13; not a test): the kernel solvers at 64-shot SST-5 size — 64 examples per class × 5
 * classes = 320 train examples, flattened (example, class) rows P = 1600, 1000 test examples (5000 eval columns).
 * The kernel is synthetic (no model run): rows (i, c) have features f_i ∘ e_c with class-dependent f_i and a
 * power-law spectrum, plus 1e-6·I, so K is full rank and ill-conditioned like an eNTK. Times `logistic` (5-fold CV
 * over 10 Cs + refit, Newton to the optimum), `lstsq`, and with `--legacy` the previous logistic solver (warm-started
 * L-BFGS to gtol 1e-4, scikit-learn 0.24's stopping rule) on the same problem for the ratio. The load average is
 * printed first and last; the last line is one JSON object with each solver's seconds.
 *
 *   nice -n 15 npx tsx scripts/bench-solvers.ts [--P 1600] [--test 1000] [--classes 5] [--repeat 1] [--legacy]
 *
 * (`--P 256 --test 200 --classes 4` is the quick sweep's sotu size: 16-shot, 4 classes, 200 eval examples.)
 */
import { loadavg } from "node:os";
import { lbfgs } from "../src/solvers/lbfgs.ts";
import { LOGISTIC_CS, LOGISTIC_FOLDS, logisticFit, logisticPredict } from "../src/solvers/logistic.ts";
import { lstsqFit, lstsqPredict } from "../src/solvers/lstsq.ts";
import { type Mat, mat } from "../src/solvers/matrix.ts";
import { stratifiedTestFolds } from "../src/solvers/stratified-kfold.ts";
import { binaryClassTargets, targetsFromLabels } from "../src/solvers/targets.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const C = arg("--classes", 5);
const P = arg("--P", 1600);
const nTest = arg("--test", 1000);
const nTrain = Math.floor(P / C);
const D = 512;

let seed = 12345;
const rand = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647 - 0.5;
};
const classMean = Array.from({ length: C }, () => Float64Array.from({ length: D }, rand));
const classEmb = Array.from({ length: C }, () => Float64Array.from({ length: D }, () => 1 + rand()));
const scale = Float64Array.from({ length: D }, (_, k) => (k + 1) ** -1.5);

/** Flattened feature rows (example, class) for `labels`. */
function features(labels: Int32Array): Mat {
  const F = mat(labels.length * C, D);
  labels.forEach((l, i) => {
    const f = Float64Array.from({ length: D }, (_, k) => (2 * classMean[l][k] + rand()) * scale[k]);
    for (let c = 0; c < C; c++) for (let k = 0; k < D; k++) F.data[(i * C + c) * D + k] = f[k] * classEmb[c][k];
  });
  return F;
}

/** A Bᵀ for row-major A (m×D) and B (q×D). */
function crossRows(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += a.data[i * D + k] * b.data[j * D + k];
      out.data[i * b.rows + j] = s;
    }
  return out;
}

const labels = Int32Array.from({ length: nTrain }, (_, i) => i % C);
const testLabels = Int32Array.from({ length: nTest }, (_, i) => (i * 7) % C);
const F = features(labels);
const Fe = features(testLabels);
// Scaled so that the mean diagonal is 100 (eNTK entries are large; the regularization 1/C is then not dominant).
const K = crossRows(F, F);
let trace = 0;
for (let i = 0; i < K.rows; i++) trace += K.data[i * K.cols + i];
const unit = 100 / (trace / K.rows);
for (let i = 0; i < K.data.length; i++) K.data[i] *= unit;
for (let i = 0; i < K.rows; i++) K.data[i * K.cols + i] += 1e-6;
const Ke = crossRows(F, Fe);
for (let i = 0; i < Ke.data.length; i++) Ke.data[i] *= unit;
const y = targetsFromLabels(labels, C, false);

const argmaxAcc = (out: Float64Array) => {
  let hit = 0;
  for (let i = 0; i < nTest; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (out[i * C + c] > out[i * C + best]) best = c;
    if (best === testLabels[i]) hit++;
  }
  return hit / nTest;
};
/** Wall seconds, and CPU seconds of this (single-threaded) process — the wall time an idle core would take. */
const cpu: Record<string, number> = {};
const time = <T>(name: string, f: () => T): [T, number] => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  cpu[name] = (c.user + c.system) / 1e6;
  return [r, (performance.now() - t0) / 1000];
};
console.log(
  `P = ${P} (${nTrain} examples × ${C} classes), ${nTest} test examples; load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")}`,
);

const result: Record<string, unknown> = { P, test: nTest, classes: C };
const [lm, logisticS] = time("logistic", () => logisticFit({ K, y }, { reg: 0 }));
// With --repeat N the same fit runs N − 1 more times: its last CPU time is a warm one (compiled code), as in a sweep
// that solves many kernels in one process.
for (let r = 1; r < arg("--repeat", 1); r++) time("logistic_warm", () => logisticFit({ K, y }, { reg: 0 }));
console.log(lm.cvScores.map((s) => s.toFixed(4)).join(" "), lm.warnings.slice(0, 5));
console.log(
  lm.fits
    .map(
      (f) =>
        `${f.fold}:${f.C.toExponential(0)}:${f.method}:${f.iterations}/${f.factorizations}:${f.relKkt.toExponential(1)}`,
    )
    .join(" "),
);
const newtonIters = lm.fits.reduce((s, f) => s + f.iterations, 0);
const factorizations = lm.fits.reduce((s, f) => s + f.factorizations, 0);

const worstKkt = Math.max(...lm.fits.map((f) => f.relKkt));
console.log(
  `logistic (Newton): ${logisticS.toFixed(2)} s (CPU ${cpu.logistic.toFixed(2)} s), C = ${lm.C}, ${lm.fits.length} fits, ${newtonIters} Newton steps (${factorizations} factorizations), worst relative KKT ${worstKkt.toExponential(2)}, test acc ${argmaxAcc(logisticPredict(lm, { K: Ke }))}`,
);
result.logistic_s = logisticS;
result.logistic_newton_iterations = newtonIters;
result.logistic_factorizations = factorizations;
result.logistic_worst_rel_kkt = worstKkt;

const [sm, lstsqS] = time("lstsq", () => lstsqFit({ K, y }, { reg: 0 }));
console.log(
  `lstsq: ${lstsqS.toFixed(2)} s (CPU ${cpu.lstsq.toFixed(2)} s), test acc ${argmaxAcc(lstsqPredict(sm, { K: Ke }))}`,
);
result.lstsq_s = lstsqS;

if (process.argv.includes("--legacy")) {
  // The previous solver: scikit-learn 0.24's CV loop with L-BFGS to gtol 1e-4, warm-started along each fold's path.
  const y01 = binaryClassTargets(y);
  const folds = stratifiedTestFolds(y01, LOGISTIC_FOLDS);
  const objective = (rows: number[], alpha: number) => (x: Float64Array, grad: Float64Array) => {
    grad.fill(0);
    let loss = 0;
    for (const i of rows) {
      let z = x[P];
      for (let j = 0; j < P; j++) z += K.data[i * P + j] * x[j];
      const yy = y01[i] === 1 ? 1 : -1;
      loss += Math.log1p(Math.exp(-yy * z));
      const s = -yy / (1 + Math.exp(yy * z));
      for (let j = 0; j < P; j++) grad[j] += s * K.data[i * P + j];
      grad[P] += s;
    }
    for (let j = 0; j < P; j++) {
      loss += 0.5 * alpha * x[j] * x[j];
      grad[j] += alpha * x[j];
    }
    return loss;
  };
  const [, legacyS] = time("logistic_legacy", () => {
    const avg = new Float64Array(P + 1);
    for (let f = 0; f < LOGISTIC_FOLDS; f++) {
      const rows = [...folds.keys()].filter((i) => folds[i] !== f);
      let x: Float64Array = new Float64Array(P + 1);
      for (const Cv of LOGISTIC_CS) {
        x = lbfgs(objective(rows, 1 / Cv), x, { gtol: 1e-4, maxIter: 10000 }).x;
        if (Cv === lm.C) for (let j = 0; j <= P; j++) avg[j] += x[j] / LOGISTIC_FOLDS;
      }
    }
    lbfgs(objective([...folds.keys()], 1 / lm.C), avg, { gtol: 1e-4, maxIter: 10000 });
  });
  console.log(
    `logistic (previous: L-BFGS, gtol 1e-4): ${legacyS.toFixed(2)} s (CPU ${cpu.logistic_legacy.toFixed(2)} s) → ratio ${(legacyS / logisticS).toFixed(1)}× (CPU ${(cpu.logistic_legacy / cpu.logistic).toFixed(1)}×)`,
  );
  result.logistic_legacy_s = legacyS;
  result.legacy_over_newton = legacyS / logisticS;
}
for (const [k, v] of Object.entries(cpu)) result[`${k}_cpu_s`] = v;
result.loadavg = loadavg();
console.log(
  `load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")}`,
);
console.log(JSON.stringify(result));
