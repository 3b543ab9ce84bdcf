import { type MetricName, metricForTask } from "../data/metrics.ts";

/** How the report shows a task: its column, which half of Table 2 it belongs to, and its headline metric. */
export interface TaskInfo {
  column: string;
  group: "single" | "pair" | "other";
  /**
   * The name's metric: acc, or binary F1 (positive class = label index 1) for MRPC and QQP (docs/protocol.md §1.2).
   * Records that carry their task's own metric override it (aggregate).
   */
  metric: MetricName;
  /** The column of the paper's Table 2 this task is comparable with, if any. */
  paper?: string;
  order: number;
}

// Task names are LM-BFF's directory names, matched case-insensitively. The kernel paper's "SST-2" is GLUE's
// (it swaps GLUE-SST-2 into SST-2), so `GLUE-SST-2` is compared with the paper; LM-BFF's sentence-level SST-2
// is shown in its own column without a paper number. The paper's CR is a 250-per-class re-split (docs/protocol.md §1.3).
const TASKS: Record<string, Omit<TaskInfo, "order" | "metric">> = {
  "glue-sst-2": { column: "SST-2", group: "single", paper: "SST-2" },
  "sst-2": { column: "SST-2 (LM-BFF)", group: "single" },
  "sst-5": { column: "SST-5", group: "single", paper: "SST-5" },
  mr: { column: "MR", group: "single", paper: "MR" },
  cr: { column: "CR", group: "single", paper: "CR" },
  mpqa: { column: "MPQA", group: "single", paper: "MPQA" },
  subj: { column: "Subj", group: "single", paper: "Subj" },
  trec: { column: "TREC", group: "single", paper: "TREC" },
  ag_news: { column: "AG News", group: "single", paper: "AG News" },
  mnli: { column: "MNLI", group: "pair", paper: "MNLI" },
  snli: { column: "SNLI", group: "pair", paper: "SNLI" },
  qnli: { column: "QNLI", group: "pair", paper: "QNLI" },
  rte: { column: "RTE", group: "pair", paper: "RTE" },
  mrpc: { column: "MRPC", group: "pair", paper: "MRPC" },
  qqp: { column: "QQP", group: "pair", paper: "QQP" },
};
const ORDER = Object.keys(TASKS);

export function taskInfo(task: string): TaskInfo {
  const key = task.toLowerCase();
  const known = TASKS[key];
  const metric = metricForTask(task);
  if (known) return { ...known, metric, order: ORDER.indexOf(key) };
  return { column: task, group: "other", metric, order: ORDER.length };
}
