/** How the report shows a task: its column, which half of Table 2 it belongs to, and its headline metric. */
export interface TaskInfo {
  column: string;
  group: "single" | "pair" | "other";
  /** acc, or binary F1 (positive class = label index 1) for MRPC and QQP (REFERENCE §1.2). */
  metric: "acc" | "f1";
  /** The column of the paper's Table 2 this task is comparable with, if any. */
  paper?: string;
  order: number;
}

// Task names are LM-BFF's directory names, matched case-insensitively. The kernel paper's "SST-2" is GLUE's
// (it swaps GLUE-SST-2 into SST-2), so `GLUE-SST-2` is compared with the paper; LM-BFF's sentence-level SST-2
// is shown in its own column without a paper number. The paper's CR is a 250-per-class re-split (REFERENCE §1.3).
const TASKS: Record<string, Omit<TaskInfo, "order">> = {
  "glue-sst-2": { column: "SST-2", group: "single", metric: "acc", paper: "SST-2" },
  "sst-2": { column: "SST-2 (LM-BFF)", group: "single", metric: "acc" },
  "sst-5": { column: "SST-5", group: "single", metric: "acc", paper: "SST-5" },
  mr: { column: "MR", group: "single", metric: "acc", paper: "MR" },
  cr: { column: "CR", group: "single", metric: "acc", paper: "CR" },
  mpqa: { column: "MPQA", group: "single", metric: "acc", paper: "MPQA" },
  subj: { column: "Subj", group: "single", metric: "acc", paper: "Subj" },
  trec: { column: "TREC", group: "single", metric: "acc", paper: "TREC" },
  ag_news: { column: "AG News", group: "single", metric: "acc", paper: "AG News" },
  mnli: { column: "MNLI", group: "pair", metric: "acc", paper: "MNLI" },
  snli: { column: "SNLI", group: "pair", metric: "acc", paper: "SNLI" },
  qnli: { column: "QNLI", group: "pair", metric: "acc", paper: "QNLI" },
  rte: { column: "RTE", group: "pair", metric: "acc", paper: "RTE" },
  mrpc: { column: "MRPC", group: "pair", metric: "f1", paper: "MRPC" },
  qqp: { column: "QQP", group: "pair", metric: "f1", paper: "QQP" },
};
const ORDER = Object.keys(TASKS);

export function taskInfo(task: string): TaskInfo {
  const key = task.toLowerCase();
  const known = TASKS[key];
  if (known) return { ...known, order: ORDER.indexOf(key) };
  return { column: task, group: "other", metric: "acc", order: ORDER.length };
}
