/**
 * The prediction rule and metrics of docs/protocol.md §1.2, used by the solvers, the trainer, the experiments and the
 * report: accuracy, and binary F1 with positive class = label index 1 for MRPC and QQP.
 */

export type MetricName = "acc" | "f1";

/** A split's metrics: the task metric's name and value (`score`), accuracy always, F1 when it is the metric. */
export interface ScoredMetrics {
  metric: MetricName;
  score: number;
  acc: number;
  f1?: number;
}

/** Row-wise argmax of row-major [n, C] scores; ties go to the first index (as numpy/torch argmax). */
export function argmaxRows(scores: ArrayLike<number>, C: number): Int32Array {
  const n = scores.length / C;
  if (!Number.isInteger(n)) throw new Error(`metrics: ${scores.length} scores are not a multiple of C = ${C}`);
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (scores[r * C + c] > scores[r * C + best]) best = c;
    out[r] = best;
  }
  return out;
}

/**
 * Predicted label index per example from solver outputs (row-major [n, C]). Multi-class: argmax over the C label
 * words, ties → the first. Binary (C = 1): the output p is read as logits [−p, p], so class 1 iff p > 0.
 */
export function predictLabels(scores: ArrayLike<number>, n: number, C: number): Int32Array {
  if (scores.length !== n * C) throw new Error(`predictLabels: ${scores.length} scores for ${n}×${C} outputs`);
  if (C !== 1) return argmaxRows(scores, C);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = scores[i] > 0 ? 1 : 0;
  return out;
}

function checkLengths(pred: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (pred.length !== labels.length) throw new Error(`metrics: ${pred.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new Error("metrics: no examples");
}

export function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(pred, labels);
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hit++;
  return hit / labels.length;
}

/** Binary F1 with positive class = label index 1 (sklearn f1_score; 0 when there are no true positives). */
export function f1Binary(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(pred, labels);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = pred[i] === 1;
    const t = labels[i] === 1;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * ROC AUC of `scores` for the positive class (label 1; labels must be 0/1): the chance that a random positive scores
 * above a random negative, ties counting one half (sklearn roc_auc_score). Computed by the rank-sum (Mann–Whitney U)
 * with tied scores given their average rank. It ignores any threshold: 0.5 means the scores carry no signal.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(scores, labels);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group i..j
    for (let k = i; k <= j; k++) {
      const y = labels[order[k]];
      if (y !== 0 && y !== 1) throw new Error(`rocAuc: labels must be 0 or 1, got ${y}`);
      if (y === 1) {
        pos++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) throw new Error("rocAuc: needs examples of both classes");
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The task's dev/test metric: `explicit` (meta.json's) if given, else F1 for MRPC and QQP, accuracy otherwise. */
export function metricForTask(task: string | undefined, explicit?: unknown): MetricName {
  if (explicit !== undefined) {
    if (explicit !== "acc" && explicit !== "f1")
      throw new Error(`metric must be "acc" or "f1", got ${JSON.stringify(explicit)}`);
    return explicit;
  }
  return /(^|[^a-z])(mrpc|qqp)$/i.test(task ?? "") ? "f1" : "acc";
}

/** Accuracy always; F1 too when it is the task metric. `score` is the task metric's value. */
export function scoreMetrics(pred: ArrayLike<number>, labels: ArrayLike<number>, metric: MetricName): ScoredMetrics {
  const acc = accuracy(pred, labels);
  if (metric !== "f1") return { metric, score: acc, acc };
  const f1 = f1Binary(pred, labels);
  return { metric, score: f1, acc, f1 };
}

/** The numbers a result record carries: `{ acc }`, plus `f1` when it was computed. */
export function metricRecord(m: { acc: number; f1?: number }): Record<string, number> {
  return m.f1 === undefined ? { acc: m.acc } : { acc: m.acc, f1: m.f1 };
}

/** acc always; f1 too when the task's metric is f1 (MRPC, QQP). */
export function classificationMetrics(
  pred: ArrayLike<number>,
  labels: ArrayLike<number>,
  metric: MetricName,
): Record<string, number> {
  return metricRecord(scoreMetrics(pred, labels, metric));
}
