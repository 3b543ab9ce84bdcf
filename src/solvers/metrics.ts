/** The solvers' view of the shared metrics (src/data/metrics.ts, REFERENCE §1.2). */
export {
  accuracy,
  f1Binary,
  type MetricName,
  metricForTask,
  predictLabels,
  scoreMetrics as evaluate,
} from "../data/metrics.ts";
