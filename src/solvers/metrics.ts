/** Prediction rule and metrics of REFERENCE §1.2. */

export type MetricName = "acc" | "f1";

/**
 * Predicted label index per example from solver outputs (row-major [n, C]). Multi-class: argmax over the C label
 * words, ties → the first. Binary (C = 1): the output p is read as logits [−p, p], so class 1 iff p > 0.
 */
export function predictLabels(scores: Float64Array, n: number, C: number): Int32Array {
  if (scores.length !== n * C) throw new Error(`predictLabels: ${scores.length} scores for ${n}×${C} outputs`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (C === 1) {
      out[i] = scores[i] > 0 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < C; c++) if (scores[i * C + c] > scores[i * C + best]) best = c;
    out[i] = best;
  }
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

/** Binary F1 with positive class = label index 1 (sklearn f1_score; 0 when there are no positives at all). */
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
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/** The task's dev/test metric: `meta.metric` if given, else F1 for MRPC and QQP, accuracy otherwise. */
export function metricForTask(task: string | undefined, explicit?: unknown): MetricName {
  if (explicit !== undefined) {
    if (explicit !== "acc" && explicit !== "f1")
      throw new Error(`metric must be "acc" or "f1", got ${JSON.stringify(explicit)}`);
    return explicit;
  }
  return /(^|[^a-z])(mrpc|qqp)$/i.test(task ?? "") ? "f1" : "acc";
}

/** Accuracy always; F1 too when it is the task metric. `score` is the task metric's value. */
export function evaluate(
  pred: Int32Array,
  labels: Int32Array,
  metric: MetricName,
): { metric: MetricName; score: number; acc: number; f1?: number } {
  const acc = accuracy(pred, labels);
  if (metric === "f1") {
    const f1 = f1Binary(pred, labels);
    return { metric, score: f1, acc, f1 };
  }
  return { metric, score: acc, acc };
}
