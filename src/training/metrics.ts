export type MetricName = "acc" | "f1";

/** Row-wise argmax of row-major [n, C] logits; ties go to the first index (as numpy/torch argmax). */
export function argmaxRows(logits: ArrayLike<number>, C: number): Int32Array {
  const n = logits.length / C;
  if (!Number.isInteger(n)) throw new Error(`metrics: ${logits.length} logits are not a multiple of C = ${C}`);
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[r * C + c] > logits[r * C + best]) best = c;
    out[r] = best;
  }
  return out;
}

export function accuracy(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (preds.length !== labels.length || preds.length === 0) throw new Error("metrics: bad prediction/label lengths");
  let ok = 0;
  for (let i = 0; i < preds.length; i++) if (preds[i] === labels[i]) ok++;
  return ok / preds.length;
}

/** Binary F1 with positive class 1 (sklearn f1_score default; 0 when there are no true positives). */
export function f1Binary(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (preds.length !== labels.length) throw new Error("metrics: bad prediction/label lengths");
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < preds.length; i++) {
    if (preds[i] === 1 && labels[i] === 1) tp++;
    else if (preds[i] === 1) fp++;
    else if (labels[i] === 1) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** acc always; f1 too when the task's metric is f1 (MRPC, QQP). */
export function classificationMetrics(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  metric: MetricName,
): Record<string, number> {
  const out: Record<string, number> = { acc: accuracy(preds, labels) };
  if (metric === "f1") out.f1 = f1Binary(preds, labels);
  return out;
}
