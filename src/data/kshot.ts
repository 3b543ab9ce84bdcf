import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { OptionError } from "../util/errors.ts";
import { formatCsv, pandasValue, parseCsv } from "./csv.ts";
import { readDatasetVariant, writeDatasetVariant } from "./dataset-variant.ts";
import { columnIndex, type DataLayout } from "./layout.ts";
import { MT19937 } from "./mt19937.ts";
import { readText } from "./readers.ts";

export const KSHOT_MODES = ["k-shot", "k-shot-10x", "k-shot-1k-test"] as const;
export type KShotMode = (typeof KSHOT_MODES)[number];

/** The LM-BFF paper's seeds. */
export const DEFAULT_SEEDS = [13, 21, 42, 87, 100] as const;

/** The reference's default `--seed` list, in the order `generate_k_shot_data.py` processes it (docs/protocol.md §3). */
export const REFERENCE_SEED_ORDER = [100, 13, 21, 42, 87] as const;

/** Test sets above this size are subsampled (seed 42) in `k-shot-1k-test` mode. */
const TEST_CAP = 1000;
const TEST_SEED = 42;

export interface KShotTask {
  /** Output folder name (LM-BFF spelling). */
  name: string;
  layout: DataLayout;
}

export interface KShotOptions {
  /** LM-BFF's `original/` directory (holds `<layout.dir>/<files>`). */
  dataDir: string;
  /** Output root; files go to `<outDir>/<mode>/<task>/<k>-<seed>/`. */
  outDir: string;
  k: number;
  seeds: readonly number[];
  mode: KShotMode;
  tasks: readonly KShotTask[];
  /** Called after each (task, seed) directory is written. */
  onDone?: (task: string, seed: number, dir: string) => void;
}

/** Python text-mode `readlines()`: universal newlines become `\n`, each line keeps its terminator. */
export function readLinesPython(path: string): string[] {
  const text = readText(path).replace(/\r\n?/g, "\n");
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === "" ? [] : lines;
}

/** Group rows by label in order of first appearance (a Python dict). */
function groupByLabel<T>(rows: T[], labelOf: (r: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const r of rows) {
    const l = labelOf(r);
    const g = groups.get(l);
    if (g) g.push(r);
    else groups.set(l, [r]);
  }
  return groups;
}

function takeSlices<T>(groups: Map<string, T[]>, from: number, to: number): T[] {
  const out: T[] = [];
  for (const g of groups.values()) out.push(...g.slice(from, to));
  return out;
}

/** A task file's rows as LM-BFF's tools see them: tsv lines (terminators kept) after the header, or csv rows. */
export interface TaskRows {
  header: string[];
  rows: string[] | (string | null)[][];
}

/** Read a task file in `layout`'s format (an original file or a split file: they share it). */
export function readTaskRows(path: string, layout: DataLayout): TaskRows {
  if (layout.format === "tsv") {
    const lines = readLinesPython(path);
    return layout.header ? { header: lines.slice(0, 1), rows: lines.slice(1) } : { header: [], rows: lines };
  }
  return { header: [], rows: parseCsv(readText(path), path).map((r) => r.fields.map(pandasValue)) };
}

/** The text of a task file holding `rows` (as pandas' `to_csv` writes csv rows). */
export function formatTaskRows(layout: DataLayout, { header, rows }: TaskRows): string {
  return layout.format === "tsv"
    ? header.join("") + (rows as string[]).join("")
    : formatCsv(rows as (string | null)[][]);
}

interface LoadedTask {
  task: KShotTask;
  train: string[] | (string | null)[][];
  header: string[];
  evals: { name: string; rows: string[] | (string | null)[][]; header: string[] }[];
}

function loadTask(dataDir: string, task: KShotTask): LoadedTask {
  const { layout } = task;
  const dir = join(dataDir, layout.dir);
  const { header, rows: train } = readTaskRows(join(dir, layout.original.train), layout);
  const evals = layout.original.eval.map((f) => ({
    // GLUE dev files (tsv) become the splits' test files.
    name: layout.format === "tsv" ? f.replaceAll("dev", "test") : f,
    ...readTaskRows(join(dir, f), layout),
  }));
  return { task, train, header, evals };
}

/** The label LM-BFF's sampler groups by: a tsv line's field of `line.strip()`, or a csv row's column. */
function samplerLabel(layout: DataLayout, source: string) {
  return (row: string | (string | null)[]): string => {
    const fields = typeof row === "string" ? row.trim().split("\t") : row;
    const i = columnIndex(layout.samplerLabelColumn, fields.length);
    if (i === undefined)
      throw new Error(
        `${source}: a row has no column ${layout.samplerLabelColumn}: ${JSON.stringify(row).slice(0, 200)}`,
      );
    return String(fields[i]);
  };
}

/**
 * Whether the reference shuffles this task's train rows in place across seeds: its `split_header` returns the
 * loaded line list itself for a header-less GLUE file (CoLA), and a copy (`lines[1:]`, or a fresh csv list)
 * otherwise, so only there does each seed's `np.random.shuffle` start from the previous seed's order.
 */
function shufflesInPlace(layout: DataLayout): boolean {
  return layout.format === "tsv" && !layout.header;
}

/**
 * The order seeds are processed in, and which are written. A task shuffled in place (CoLA) depends on the seeds
 * processed before it, so the seeds follow the reference's default run (100, 13, 21, 42, 87 — whatever order they
 * are listed in), replaying the shuffles of unlisted reference seeds before the last listed one; seeds outside that
 * list come after, in the order given.
 */
export function seedSchedule(seeds: readonly number[]): { seed: number; write: boolean }[] {
  const wanted = new Set(seeds);
  const ref: readonly number[] = REFERENCE_SEED_ORDER;
  const last = Math.max(-1, ...ref.map((s, i) => (wanted.has(s) ? i : -1)));
  const out = ref.slice(0, last + 1).map((seed) => ({ seed, write: wanted.has(seed) }));
  for (const seed of wanted) if (!ref.includes(seed)) out.push({ seed, write: true });
  return out;
}

/** Generate the k-shot splits of `tasks` for every seed (LM-BFF `tools/generate_k_shot_data.py`). */
export async function generateKShot(opts: KShotOptions): Promise<string[]> {
  if (!KSHOT_MODES.includes(opts.mode))
    throw new OptionError("mode", `expected one of ${KSHOT_MODES.join(", ")}, got ${opts.mode}`);
  if (!Number.isInteger(opts.k) || opts.k < 1) throw new OptionError("k", `expected a positive integer, got ${opts.k}`);
  const loaded = opts.tasks.map((t) => loadTask(opts.dataDir, t));
  // Which data original/ holds (LM-BFF's or the kernel paper's), recorded in every split directory.
  const variant = readDatasetVariant(opts.dataDir);
  const devRate = opts.mode === "k-shot-10x" ? 11 : 2;
  const written: string[] = [];
  const write = async (path: string, text: string) => {
    await writeFileAtomic(path, text);
    written.push(path);
  };
  for (const { seed, write: wanted } of seedSchedule(opts.seeds)) {
    for (const { task, train, header, evals } of loaded) {
      const { layout } = task;
      const persistent = shufflesInPlace(layout);
      if (!wanted && !persistent) continue;
      const rng = new MT19937(seed);
      // A header-less tsv (CoLA) is shuffled in place: the next seed starts from this seed's order.
      const rows = (persistent ? train : [...train]) as (string | (string | null)[])[];
      rng.shuffle(rows);
      if (!wanted) continue;
      const dir = join(opts.outDir, opts.mode, task.name, `${opts.k}-${seed}`);
      await writeDatasetVariant(dir, variant);
      // Test files: the original eval files (GLUE dev → test), capped at 1,000 with a seed-42 draw in 1k-test mode.
      for (const ev of evals) {
        let evRows = ev.rows as (string | (string | null)[])[];
        if (opts.mode === "k-shot-1k-test" && evRows.length > TEST_CAP) {
          const perm = new MT19937(TEST_SEED).permutation(evRows.length).slice(0, TEST_CAP);
          evRows = perm.map((i) => evRows[i]);
        }
        await write(
          join(dir, ev.name),
          formatTaskRows(layout, { header: ev.header, rows: evRows as TaskRows["rows"] }),
        );
      }
      const groups = groupByLabel(rows, samplerLabel(layout, join(opts.dataDir, layout.dir, layout.original.train)));
      const trainRows = takeSlices(groups, 0, opts.k);
      const devRows = takeSlices(groups, opts.k, devRate * opts.k);
      if (devRows.length === 0) {
        const largest = Math.max(0, ...[...groups.values()].map((g) => g.length));
        throw new OptionError(
          "k",
          (n) =>
            `${n("k")} ${opts.k}: every class of ${join(opts.dataDir, layout.dir, layout.original.train)} has at ` +
            `most ${largest} examples, so ${task.name}'s dev set would be empty (use ${n("k")} below ${largest})`,
        );
      }
      const fmt = (rs: (string | (string | null)[])[]) =>
        formatTaskRows(layout, { header, rows: rs as TaskRows["rows"] });
      await write(join(dir, layout.files.train), fmt(trainRows));
      await write(join(dir, layout.files.dev), fmt(devRows));
      opts.onDone?.(task.name, seed, dir);
    }
  }
  return written;
}
