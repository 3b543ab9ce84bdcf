/** The trainer's view of the shared metrics (src/data/metrics.ts, REFERENCE §1.2). */
export { accuracy, argmaxRows, classificationMetrics, f1Binary, type MetricName } from "../data/metrics.ts";
