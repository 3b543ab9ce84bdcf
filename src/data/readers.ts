import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OptionError } from "../util/errors.ts";
import { parseCsv } from "./csv.ts";
import { columnIndex, type DataLayout } from "./layout.ts";

/** One labelled example: its sentences (1 or 2), label string, and where it came from (`file:line`). */
export interface Example {
  texts: string[];
  label: string;
  source: string;
}

export interface ReadOptions {
  /** Turn malformed rows into a counted warning instead of an error. */
  skipBadRows?: boolean;
  /** Called once per skipped row (with the reason). */
  onSkip?: (message: string) => void;
}

export interface ReadResult {
  examples: Example[];
  /** Rows skipped because of --skip-bad-rows (each one reported through onSkip). */
  skipped: number;
  skippedMessages: string[];
}

/** A UTF-8 text file; a missing or unreadable one is an error naming the path. */
export function readText(path: string, warn: (m: string) => void = defaultWarn): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `${path}: file not found` : `${path}: cannot read (${code})`);
  }
  const text = buf.toString("utf8");
  // Invalid UTF-8 is replaced by U+FFFD (as Python's errors="replace" would); say on which lines.
  const bad = invalidUtf8Lines(buf);
  if (bad.length > 0)
    warn(
      `${path}:${bad[0]}: invalid UTF-8, replaced by U+FFFD` +
        (bad.length > 1 ? ` (also on lines ${bad.slice(1, 6).join(", ")}${bad.length > 6 ? ", …" : ""})` : ""),
    );
  return text;
}

const defaultWarn = (m: string) => process.stderr.write(`entk: warning: ${m}\n`);

/** 1-based numbers of the lines holding invalid UTF-8 (none for a valid file, checked in one pass). */
export function invalidUtf8Lines(buf: Uint8Array): number[] {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  try {
    fatal.decode(buf);
    return [];
  } catch {
    // find the lines
  }
  const out: number[] = [];
  let start = 0;
  let line = 1;
  for (let i = 0; i <= buf.length; i++) {
    if (i < buf.length && buf[i] !== 0x0a) continue;
    try {
      fatal.decode(buf.subarray(start, i));
    } catch {
      out.push(line);
    }
    start = i + 1;
    line++;
  }
  return out;
}

/** Split text into lines as Python's universal-newline `readlines` does (\r\n, \r and \n all end a line). */
export function splitLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

class RowCollector {
  readonly result: ReadResult = { examples: [], skipped: 0, skippedMessages: [] };
  constructor(
    private readonly labels: readonly string[],
    private readonly opts: ReadOptions,
  ) {}

  bad(where: string, why: string): false {
    const msg = `${where}: ${why}`;
    if (!this.opts.skipBadRows)
      throw new OptionError("skipBadRows", (n) => `${msg} (use ${n("skipBadRows")} to skip such rows with a warning)`);
    this.result.skipped++;
    this.result.skippedMessages.push(msg);
    this.opts.onSkip?.(msg);
    return false;
  }

  add(where: string, fields: string[], textCols: number[], labelCol: number, expectCols?: number): boolean {
    if (expectCols !== undefined && fields.length !== expectCols)
      return this.bad(where, `expected ${expectCols} columns, got ${fields.length}`);
    const texts: string[] = [];
    for (const c of textCols) {
      const i = columnIndex(c, fields.length);
      if (i === undefined) return this.bad(where, `no column ${c} (row has ${fields.length} columns)`);
      // Only a truly empty field is bad: whitespace-only texts occur in LM-BFF's own data (cr has "0, " rows,
      // also in its test set) and the reference encodes them like any other text.
      if (fields[i] === "") return this.bad(where, `empty text in column ${i}`);
      texts.push(fields[i]);
    }
    const li = columnIndex(labelCol, fields.length);
    if (li === undefined) return this.bad(where, `no label column ${labelCol} (row has ${fields.length} columns)`);
    const label = fields[li].trim();
    if (!this.labels.includes(label))
      return this.bad(where, `unknown label ${JSON.stringify(label)} (expected one of ${this.labels.join(", ")})`);
    this.result.examples.push({ texts, label, source: where });
    return true;
  }
}

/**
 * The task's columns must exist in the file (judged on its first row): a label or text column beyond the row is a
 * mistake in the task's "data" layout, not in every data row.
 */
function checkLayout(path: string, columns: number | undefined, layout: DataLayout): void {
  if (columns === undefined) return;
  for (const [what, c] of [
    ["labelColumn", layout.labelColumn],
    ...layout.textColumns.map((t) => ["textColumns", t] as const),
  ] as const)
    if (columnIndex(c, columns) === undefined)
      throw new Error(
        `${path}: the task's data.${what} ${c} is outside the file's ${columns} columns (first row); ` +
          'check the task file\'s "data" layout',
      );
}

/**
 * The fewest fields a row needs for the layout's columns, so that a negative (from the end) label column never
 * lands on a text column: e.g. text 7, 8 and label -1 need 10 fields.
 */
export function minColumns(textColumns: readonly number[], labelColumn: number): number {
  const cols = [...textColumns, labelColumn];
  const maxPos = Math.max(-1, ...cols.filter((c) => c >= 0));
  const maxNeg = Math.max(0, ...cols.filter((c) => c < 0).map((c) => -c));
  return maxPos + 1 + maxNeg;
}

/**
 * GLUE TSV (HF `_read_tsv`): utf-8-sig, split on tabs with quoting disabled, optional header skipped. GLUE rows
 * may have more fields than the header (SNLI's annotator labels); a row with too few fields is malformed.
 */
export function readTsv(
  path: string,
  layout: DataLayout,
  labels: readonly string[],
  opts: ReadOptions = {},
): ReadResult {
  const lines = splitLines(readText(path));
  const rows = new RowCollector(labels, opts);
  const need = minColumns(layout.textColumns, layout.labelColumn);
  let start = 0;
  if (layout.header) {
    if (lines.length === 0) throw new Error(`${path}: empty file (expected a header line)`);
    // A file without its header would silently lose its first example: refuse a first line that is an example.
    const first = lines[0].split("\t");
    const li = columnIndex(layout.labelColumn, first.length);
    if (first.length >= need && li !== undefined && labels.includes(first[li].trim()))
      throw new Error(
        `${path}:1: expected a header line, but it looks like an example (label ${JSON.stringify(first[li].trim())} ` +
          "in the label column); add the header line (e.g. sentence<TAB>label)",
      );
    start = 1;
  }
  checkLayout(path, lines[0]?.split("\t").length, layout);
  for (let i = start; i < lines.length; i++) {
    const fields = lines[i].split("\t");
    if (fields.length < need)
      rows.bad(`${path}:${i + 1}`, `expected at least ${need} tab-separated columns, got ${fields.length}`);
    else rows.add(`${path}:${i + 1}`, fields, layout.textColumns, layout.labelColumn);
  }
  return rows.result;
}

/** CSV without header and with standard quoting (pandas `read_csv(header=None)`). */
export function readCsv(
  path: string,
  layout: DataLayout,
  labels: readonly string[],
  opts: ReadOptions = {},
): ReadResult {
  const records = parseCsv(readText(path), path);
  const rows = new RowCollector(labels, opts);
  const expect = records[0]?.fields.length;
  checkLayout(path, expect, layout);
  for (const r of records) {
    const where = `${path}:${r.line}`;
    // A quote left open swallows the following lines into one field until the next quote: say so.
    const spans = r.fields.findIndex((f) => f.includes("\n"));
    if (r.fields.length !== expect && spans >= 0)
      rows.bad(
        where,
        `a quoted field opened on this line runs over ${r.fields[spans].split("\n").length} lines ` +
          `(unclosed quote?), leaving ${r.fields.length} columns instead of ${expect}`,
      );
    else rows.add(where, r.fields, layout.textColumns, layout.labelColumn, expect);
  }
  return rows.result;
}

/** Read one split (`train`, `dev` or `test`) of a k-shot split directory with the task's layout. */
export function readSplit(
  splitDir: string,
  layout: DataLayout,
  split: "train" | "dev" | "test",
  labels: readonly string[],
  opts: ReadOptions = {},
): ReadResult {
  const path = join(splitDir, layout.files[split]);
  const r = layout.format === "tsv" ? readTsv(path, layout, labels, opts) : readCsv(path, layout, labels, opts);
  if (r.examples.length === 0)
    throw new Error(
      `${path}: no examples${r.skipped > 0 ? ` (all ${r.skipped} rows were malformed and skipped)` : " (empty file)"}`,
    );
  return r;
}

/** Field mapping for users' own data: which fields hold the sentences and the label. */
export interface FieldMapping {
  /** JSON Lines, or CSV whose first line is a header with the field names. */
  format: "jsonl" | "csv";
  text: string[];
  label: string;
}

/**
 * Read a JSON Lines or headered CSV file with a field mapping, e.g. MNLI's dev.jsonl with
 * `{ format: "jsonl", text: ["premise", "hypothesis"], label: "label" }`. Numeric labels become strings.
 */
export function readGeneric(
  path: string,
  mapping: FieldMapping,
  labels: readonly string[],
  opts: ReadOptions = {},
): ReadResult {
  const rows = new RowCollector(labels, opts);
  const fields = [...mapping.text, mapping.label];
  const textCols = mapping.text.map((_, i) => i);
  const labelCol = mapping.text.length;
  if (mapping.format === "jsonl") {
    const lines = splitLines(readText(path));
    for (const [i, line] of lines.entries()) {
      const where = `${path}:${i + 1}`;
      if (line.trim() === "") continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (err) {
        rows.bad(where, `invalid JSON (${(err as Error).message})`);
        continue;
      }
      if (!v || typeof v !== "object" || Array.isArray(v)) {
        rows.bad(where, "expected a JSON object");
        continue;
      }
      const o = v as Record<string, unknown>;
      const missing = fields.find((f) => !(f in o));
      if (missing) {
        rows.bad(where, `missing field ${JSON.stringify(missing)}`);
        continue;
      }
      const bad = fields.find((f) => typeof o[f] !== "string" && typeof o[f] !== "number");
      if (bad) {
        rows.bad(where, `field ${JSON.stringify(bad)} must be a string or number`);
        continue;
      }
      rows.add(
        where,
        fields.map((f) => String(o[f])),
        textCols,
        labelCol,
      );
    }
    return rows.result;
  }
  const records = parseCsv(readText(path), path);
  if (records.length === 0) throw new Error(`${path}: empty file (expected a header line)`);
  const header = records[0].fields;
  const idx = fields.map((f) => {
    const i = header.indexOf(f);
    if (i < 0)
      throw new Error(
        `${path}:${records[0].line}: header has no field ${JSON.stringify(f)} (has ${header.join(", ")})`,
      );
    return i;
  });
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) {
      rows.bad(`${path}:${r.line}`, `expected ${header.length} columns, got ${r.fields.length}`);
      continue;
    }
    rows.add(
      `${path}:${r.line}`,
      idx.map((i) => r.fields[i]),
      textCols,
      labelCol,
    );
  }
  return rows.result;
}
