import { basename, dirname, join } from "node:path";
import type { ResultRecord } from "../experiments/records.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { canonicalJson } from "../util/canonical.ts";
import { OptionError } from "../util/errors.ts";
import { aggregate, type Cell, formatMeanStd } from "./aggregate.ts";
import { buildManifest, manifestMarkdown, type ReportManifest } from "./manifest.ts";
import { methodInfo } from "./methods.ts";
import { paperTable, paperValue } from "./paper.ts";
import { groupedBarChart } from "./svg.ts";
import { type TaskInfo, taskInfo } from "./tasks.ts";

export interface ReportOptions {
  /** Markdown path; charts (`<name>-k<k>.svg`) and `<name>.manifest.json` are written next to it. */
  out: string;
  /** Add the paper's Table 2 numbers (docs/protocol.md §8) and our difference. */
  reference?: "paper";
  poolSolvers?: boolean;
  title?: string;
  /** What the records were read from (for the manifest). */
  inputs?: string[];
  duplicatesDropped?: number;
}

export interface ReportFiles {
  markdown: string;
  charts: string[];
  manifest: string;
}

const GROUPS: { group: TaskInfo["group"]; title: string }[] = [
  { group: "single", title: "Single-sentence tasks" },
  { group: "pair", title: "Sentence-pair tasks" },
  { group: "other", title: "Other tasks" },
];

const byOrder =
  <T>(key: (t: T) => [number, string]) =>
  (a: T, b: T) => {
    const [oa, sa] = key(a);
    const [ob, sb] = key(b);
    return oa - ob || (sa < sb ? -1 : sa > sb ? 1 : 0);
  };
const taskSort = byOrder<string>((t) => [taskInfo(t).order, t.toLowerCase()]);
const methodSort = byOrder<string>((m) => [methodInfo(m).order, methodInfo(m).label]);
const signed = (x: number) => `${x >= 0 ? "+" : "-"}${Math.abs(x).toFixed(1)}`;

function table(allCells: Cell[], tasks: string[], reference: boolean, maxSeeds: number): string[] {
  const cells = allCells.filter((c) => tasks.includes(c.task));
  const at = new Map(cells.map((c) => [JSON.stringify([c.k, c.method, c.task]), c]));
  const ks = [...new Set(cells.map((c) => c.k))].sort((a, b) => a - b);
  const lines = [
    `| k | method | ${tasks.map((t) => taskInfo(t).column).join(" | ")} |`,
    `|---|---|${tasks.map(() => "---:").join("|")}|`,
  ];
  for (const k of ks) {
    const methods = [...new Set(cells.filter((c) => c.k === k).map((c) => c.method))].sort(methodSort);
    for (const m of methods) {
      const info = methodInfo(m);
      const ours = tasks.map((t) => at.get(JSON.stringify([k, m, t])));
      lines.push(
        `| ${k} | ${info.label} | ${ours
          .map((c) =>
            c ? `${formatMeanStd(c.mean, c.std)}${c.seeds.length < maxSeeds ? ` n=${c.seeds.length}` : ""}` : "–",
          )
          .join(" | ")} |`,
      );
      if (!reference) continue;
      const paper = tasks.map((t) => paperValue(k, info.paper, taskInfo(t).paper));
      if (paper.every((p) => p === undefined)) continue;
      lines.push(
        `| | paper | ${paper.map((p) => (p ? `${p[0].toFixed(1)} (${p[1].toFixed(1)})` : "–")).join(" | ")} |`,
      );
      lines.push(
        `| | Δ | ${paper.map((p, i) => (p && ours[i] ? signed((ours[i] as Cell).mean * 100 - p[0]) : "–")).join(" | ")} |`,
      );
    }
  }
  return lines;
}

/** The report's markdown, chart SVGs and manifest, as strings (no I/O). */
export function renderReport(
  records: ResultRecord[],
  opts: ReportOptions,
): { markdown: string; charts: { file: string; svg: string }[]; manifest: ReportManifest } {
  if (records.length === 0) throw new Error("no result records to report");
  const name = basename(opts.out).replace(/\.md$/, "");
  const cells = aggregate(records, { poolSolvers: opts.poolSolvers });
  const reference = opts.reference === "paper";
  const maxSeeds = Math.max(...cells.map((c) => c.seeds.length));
  const manifestFile = `${name}.manifest.json`;
  const manifest = buildManifest(records, opts.inputs ?? [], opts.duplicatesDropped ?? 0);
  const seeds = [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b);
  const md: string[] = [
    `# ${opts.title ?? `entk report: ${name}`}`,
    "",
    `Test metric of the configuration with the best dev metric for each seed (ties: the first in a stable order), ` +
      `then mean (population std) over seeds, ×100 — as the reference's \`gather_result.py\` and the paper's Table 2. ` +
      `Accuracy, except MRPC and QQP: F1 (positive class = label index 1). Seeds: ${seeds.join(", ")}` +
      `${cells.some((c) => c.seeds.length < maxSeeds) ? `; cells marked n=… have fewer than ${maxSeeds}` : ""}.` +
      `${opts.poolSolvers ? " Kernel solvers are pooled: the solver is chosen on dev like any hyperparameter." : ""}`,
  ];
  if (reference)
    md.push(
      "",
      `Paper rows: ${paperTable().source} Δ = ours − paper. The paper's "SST-2" is GLUE-SST-2; entk's \`SST-2\` ` +
        "(LM-BFF's sentence-level version) has no paper number. Kernel rows are compared with the paper's row for " +
        "the same kernel formula whatever the solver.",
    );
  const tasks = [...new Set(cells.map((c) => c.task))].sort(taskSort);
  for (const { group, title } of GROUPS) {
    const ts = tasks.filter((t) => taskInfo(t).group === group);
    if (ts.length === 0) continue;
    md.push("", `## ${title}`, "", ...table(cells, ts, reference, maxSeeds));
  }

  const charts: { file: string; svg: string }[] = [];
  const ks = [...new Set(cells.map((c) => c.k))].sort((a, b) => a - b);
  md.push("", "## Charts", "");
  for (const k of ks) {
    const kc = cells.filter((c) => c.k === k);
    const kTasks = [...new Set(kc.map((c) => c.task))].sort(taskSort);
    const methods = [...new Set(kc.map((c) => c.method))].sort(methodSort);
    const get = (m: string, t: string) => kc.find((c) => c.method === m && c.task === t);
    const file = `${name}-k${k}.svg`;
    charts.push({
      file,
      svg: groupedBarChart({
        title: `k = ${k}: test metric by task (mean ± std over seeds)${reference ? "; black ticks: paper" : ""}`,
        yLabel: "test metric ×100",
        categories: kTasks.map((t) => taskInfo(t).column),
        series: methods.map((m) => ({
          label: methodInfo(m).label,
          values: kTasks.map((t) => (get(m, t) ? (get(m, t) as Cell).mean * 100 : undefined)),
          errors: kTasks.map((t) => (get(m, t) ? (get(m, t) as Cell).std * 100 : undefined)),
          markers: reference
            ? kTasks.map((t) => paperValue(k, methodInfo(m).paper, taskInfo(t).paper)?.[0])
            : undefined,
        })),
      }),
    });
    md.push(`![k = ${k}: kernel regression vs fine-tuning per task](${file})`, "");
  }

  md.push("## Selected configurations", "", "<details><summary>Best dev configuration per seed</summary>", "");
  md.push("| k | method | task | seed | hyperparameters | dev | test |", "|---|---|---|---:|---|---:|---:|");
  const sorted = [...cells].sort((a, b) => a.k - b.k || methodSort(a.method, b.method) || taskSort(a.task, b.task));
  for (const c of sorted)
    for (const s of c.seeds) {
      const hp = canonicalJson(s.record.hyperparameters).replace(/\|/g, "\\|");
      md.push(
        `| ${c.k} | ${methodInfo(c.method).label} | ${taskInfo(c.task).column} | ${s.seed} | \`${s.record.method} ${hp}\` | ${(s.dev * 100).toFixed(1)} | ${(s.test * 100).toFixed(1)} |`,
      );
    }
  md.push("", "</details>", "", "## Run manifest", "", ...manifestMarkdown(manifest, manifestFile), "");
  return { markdown: md.join("\n"), charts, manifest };
}

/** Write the markdown report, its SVG charts and its manifest (each atomically). */
export async function writeReport(records: ResultRecord[], opts: ReportOptions): Promise<ReportFiles> {
  if (!opts.out.endsWith(".md"))
    throw new OptionError("out", `expected a markdown path ending in .md, got "${opts.out}"`);
  const dir = dirname(opts.out);
  const { markdown, charts, manifest } = renderReport(records, opts);
  const manifestPath = join(dir, `${basename(opts.out, ".md")}.manifest.json`);
  for (const c of charts) await writeFileAtomic(join(dir, c.file), c.svg);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFileAtomic(opts.out, markdown);
  return { markdown: opts.out, charts: charts.map((c) => join(dir, c.file)), manifest: manifestPath };
}
