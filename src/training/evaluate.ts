import { argmaxRows, classificationMetrics, type MetricName } from "../data/metrics.ts";
import type { FinetuneModel, LabeledExample } from "./types.ts";

/** Eval-mode predictions (argmax of the label-word logits) for `examples`, in batches of `batchSize`. */
export async function predict(model: FinetuneModel, examples: LabeledExample[], batchSize = 8): Promise<Int32Array> {
  const C = model.numLabels;
  const preds = new Int32Array(examples.length);
  for (let s = 0; s < examples.length; s += batchSize) {
    const batch = examples.slice(s, s + batchSize);
    const logits = await model.logits(batch.map((e) => e.input));
    if (logits.length !== batch.length * C)
      throw new Error(`model.logits returned ${logits.length} values for ${batch.length} inputs × C = ${C}`);
    preds.set(argmaxRows(logits, C), s);
  }
  return preds;
}

/** acc (and f1 when `metric` is f1) of the model on `examples`. */
export async function evaluate(
  model: FinetuneModel,
  examples: LabeledExample[],
  metric: MetricName,
  batchSize = 8,
): Promise<Record<string, number>> {
  const preds = await predict(model, examples, batchSize);
  return classificationMetrics(
    preds,
    examples.map((e) => e.label),
    metric,
  );
}
