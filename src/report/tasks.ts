import type { DatasetVariant } from "../data/dataset-variant.ts";
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

// Task names are LM-BFF's directory names, matched case-insensitively, as the report names them (reportTask):
// the paper's columns are its data, so which folder a task came from is read with the records' dataset variant
// (src/data/dataset-variant.ts). The kernel paper's SST-2 is GLUE's: `GLUE-SST-2`, or `SST-2` in the kernel-paper
// layout, is compared with the paper; LM-BFF's sentence-level SST-2 has its own column without a paper number. The
// paper's CR is the 250-per-class re-split (docs/protocol.md §1.3): only `cr` in the kernel-paper layout is
// compared with it; LM-BFF's CR split is shown as "CR (LM-BFF)".
const TASKS: Record<string, Omit<TaskInfo, "order" | "metric">> = {
  "glue-sst-2": { column: "SST-2", group: "single", paper: "SST-2" },
  "sst-2": { column: "SST-2 (LM-BFF)", group: "single" },
  "sst-5": { column: "SST-5", group: "single", paper: "SST-5" },
  mr: { column: "MR", group: "single", paper: "MR" },
  cr: { column: "CR", group: "single", paper: "CR" },
  "cr (lm-bff)": { column: "CR (LM-BFF)", group: "single" },
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

/**
 * The name the report files a record's task under, given the data its split holds: `SST-2` of the kernel-paper
 * layout is GLUE's SST-2 (reported as `GLUE-SST-2`), and `cr` of LM-BFF's layout is LM-BFF's CR split (reported as
 * `cr (LM-BFF)`, never against the paper's CR). Other tasks keep their name.
 */
export function reportTask(task: string, dataset: DatasetVariant = "lm-bff"): string {
  const key = task.toLowerCase();
  if (key === "sst-2" && dataset === "kernel-paper") return "GLUE-SST-2";
  if (key === "cr" && dataset === "lm-bff") return `${task} (LM-BFF)`;
  return task;
}

export function taskInfo(task: string): TaskInfo {
  const key = task.toLowerCase();
  const known = TASKS[key];
  const metric = metricForTask(task);
  if (known) return { ...known, metric, order: ORDER.indexOf(key) };
  return { column: task, group: "other", metric, order: ORDER.length };
}
