import { int, intArray, noUnknownKeys, type Obj, obj, str, strArray } from "./validate.ts";

/**
 * How a task's files look on disk (docs/protocol.md §1.3). Column indices may be negative: -1 = the last column.
 * `files` names the train/dev/test files inside a k-shot split directory; `original` names the files of the
 * LM-BFF `original/<dir>/` layout (each `eval` file becomes a test file in the splits, `dev` → `test`).
 */
export interface DataLayout {
  /** Folder name under `original/` and under the k-shot output (LM-BFF's spelling). */
  dir: string;
  /** "tsv": GLUE, tab-split with quoting disabled; "csv": standard quoting, no header. */
  format: "tsv" | "csv";
  header: boolean;
  textColumns: number[];
  labelColumn: number;
  /** The column LM-BFF's k-shot sampler groups by (MRPC 0, CoLA 1, csv 0, otherwise the last). */
  samplerLabelColumn: number;
  files: { train: string; dev: string; test: string };
  original: { train: string; eval: string[] };
}

const KEYS = ["dir", "format", "header", "textColumns", "labelColumn", "samplerLabelColumn", "files", "original"];

export function parseDataLayout(where: string, v: unknown): DataLayout {
  const o = obj(where, "data", v);
  noUnknownKeys(where, o, KEYS, "data.");
  const format = o.format;
  if (format !== "tsv" && format !== "csv")
    throw new Error(`${where}: "data.format" must be "tsv" or "csv", got ${JSON.stringify(format)}`);
  if (typeof o.header !== "boolean")
    throw new Error(`${where}: "data.header" must be true or false, got ${JSON.stringify(o.header)}`);
  const files = obj(where, "data.files", o.files) as Obj;
  noUnknownKeys(where, files, ["train", "dev", "test"], "data.files.");
  const original = obj(where, "data.original", o.original) as Obj;
  noUnknownKeys(where, original, ["train", "eval"], "data.original.");
  return {
    dir: str(where, "data.dir", o.dir),
    format,
    header: o.header,
    textColumns: intArray(where, "data.textColumns", o.textColumns),
    labelColumn: int(where, "data.labelColumn", o.labelColumn),
    samplerLabelColumn: int(where, "data.samplerLabelColumn", o.samplerLabelColumn),
    files: {
      train: str(where, "data.files.train", files.train),
      dev: str(where, "data.files.dev", files.dev),
      test: str(where, "data.files.test", files.test),
    },
    original: {
      train: str(where, "data.original.train", original.train),
      eval: strArray(where, "data.original.eval", original.eval),
    },
  };
}

/** Resolve a possibly negative column index against a row of `n` fields; undefined when out of range. */
export function columnIndex(col: number, n: number): number | undefined {
  const i = col < 0 ? n + col : col;
  return i >= 0 && i < n ? i : undefined;
}
