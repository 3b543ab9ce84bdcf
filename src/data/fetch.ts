import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { writeFileAtomic } from "../util/atomic.ts";
import { OptionError } from "../util/errors.ts";
import { progressBar } from "../util/progress.ts";
import { formatCsv, parseCsv } from "./csv.ts";
import { writeDatasetVariant } from "./dataset-variant.ts";

/** LM-BFF's `data/download_dataset.sh` source. */
export const LMBFF_DATASETS_URL = "https://nlp.cs.princeton.edu/projects/lm-bff/datasets.tar";

export interface DownloadOptions {
  url: string;
  /** Final file; a partial download lives at `<dest>.part` and is resumed with an HTTP Range request. */
  dest: string;
  /** Expected md5 (hex) of the whole file; checked after download when given. */
  md5?: string;
  quiet?: boolean;
}

async function md5File(path: string): Promise<string> {
  const h = createHash("md5");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

function networkError(url: string, err: unknown): Error {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new OptionError(
    "tar",
    (n) =>
      `cannot download ${url}: ${why} (offline? download the file by other means and pass it with ${n("tar")} FILE)`,
  );
}

/**
 * Download `url` to `dest`, streaming to disk with a progress bar. Resumes a previous `.part` file with
 * `Range: bytes=N-` (a server answering 200 restarts it); verifies the length and, when given, the md5.
 */
export async function downloadFile(opts: DownloadOptions): Promise<string> {
  const part = `${opts.dest}.part`;
  await mkdir(join(opts.dest, ".."), { recursive: true });
  let have = existsSync(part) ? (await stat(part)).size : 0;
  let res: Response;
  try {
    res = await fetch(opts.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  } catch (err) {
    throw networkError(opts.url, err);
  }
  let total: number | undefined;
  if (res.status === 416 && have > 0) {
    // Nothing left to send: the part file is already complete.
    await res.body?.cancel();
    total = have;
  } else if (res.status === 206 && have > 0) {
    const range = res.headers.get("content-range") ?? "";
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(range);
    if (!m || Number(m[1]) !== have)
      throw new Error(`${opts.url}: unexpected Content-Range "${range}" for a resume at ${have}`);
    total = m[2] === "*" ? undefined : Number(m[2]);
  } else if (res.ok) {
    have = 0;
    const len = res.headers.get("content-length");
    total = len === null ? undefined : Number(len);
  } else {
    await res.body?.cancel();
    throw new Error(`cannot download ${opts.url}: HTTP ${res.status} ${res.statusText}`);
  }
  if (res.status !== 416 && res.body) {
    const bar = progressBar("download", Math.max(1, Math.round((total ?? 0) / 1024)), {
      quiet: opts.quiet,
      unit: "KiB",
    });
    bar.tick(Math.round(have / 1024));
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
    body.on("data", (chunk: Buffer) => bar.tick(chunk.length / 1024));
    try {
      await pipeline(body, createWriteStream(part, { flags: have > 0 ? "a" : "w" }));
    } catch (err) {
      throw new Error(`download of ${opts.url} interrupted (${(err as Error).message}); run again to resume`);
    } finally {
      bar.stop();
    }
  }
  const size = (await stat(part)).size;
  if (total !== undefined && size !== total)
    throw new Error(`download of ${opts.url} incomplete: ${size} of ${total} bytes; run again to resume`);
  if (opts.md5) {
    const got = await md5File(part);
    if (got !== opts.md5.toLowerCase()) {
      await rm(part, { force: true });
      throw new Error(`${opts.url}: md5 ${got} does not match the expected ${opts.md5}; the partial file was removed`);
    }
  }
  await rename(part, opts.dest);
  return opts.dest;
}

/** Extract a tar file with the system `tar` into `dir`. */
export async function extractTar(tarPath: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  try {
    await promisify(execFile)("tar", ["-xf", tarPath, "-C", dir]);
  } catch (err) {
    throw new Error(`cannot extract ${tarPath}: ${(err as Error).message.trim()}`);
  }
}

/** The kernel paper's SST-2 swap: `SST-2` → `SST-2-original`, `GLUE-SST-2` → `SST-2`. */
export async function swapSst2(originalDir: string): Promise<void> {
  const sst2 = join(originalDir, "SST-2");
  const glue = join(originalDir, "GLUE-SST-2");
  if (!existsSync(glue)) throw new Error(`${glue}: not found; cannot apply the SST-2 swap`);
  if (existsSync(join(originalDir, "SST-2-original")))
    throw new Error(`${originalDir}: SST-2-original exists already (swap applied?)`);
  if (existsSync(sst2)) await rename(sst2, join(originalDir, "SST-2-original"));
  await rename(glue, sst2);
}

/** Python's `str.isspace()` characters: JavaScript's \s without U+FEFF, plus U+001C–U+001F and U+0085. */
const PY_SPACE = new Set(
  [9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000].concat(
    Array.from({ length: 11 }, (_, i) => 0x2000 + i),
  ),
);

/** Python's `str.strip()`. */
function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && PY_SPACE.has(s.charCodeAt(a))) a++;
  while (b > a && PY_SPACE.has(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/**
 * Group rows by their first field in order of first appearance (a Python dict) and write the first `perClass` of
 * each group to test.csv and the rest to train.csv, as pandas `to_csv(header=False, index=False)` writes them.
 */
async function writeCrSplit(crDir: string, rows: string[][], perClass: number) {
  const byClass = new Map<string, string[][]>();
  for (const r of rows) {
    const g = byClass.get(r[0]) ?? [];
    g.push(r);
    byClass.set(r[0], g);
  }
  const newTest = [...byClass.values()].flatMap((g) => g.slice(0, perClass));
  const newTrain = [...byClass.values()].flatMap((g) => g.slice(perClass));
  await writeFileAtomic(join(crDir, "test.csv"), formatCsv(newTest));
  await writeFileAtomic(join(crDir, "train.csv"), formatCsv(newTrain));
  return { train: newTrain.length, test: newTest.length };
}

/**
 * The kernel paper's CR split: LM-BFF's `original/cr/process.py` run with its 1000 test reviews per class changed
 * to 250 (the paper's `sed -i 's/1000/250/' process.py`). process.py reads `custrev.all` line by line (text mode),
 * strips each line, takes the label `int(line[0])` and the text `line[2:]`, groups the rows by label in order of
 * first appearance, and writes the first 250 rows of each label to test.csv and the rest to train.csv.
 */
export async function splitCustrev(crDir: string, perClass = 250): Promise<{ train: number; test: number }> {
  const path = join(crDir, "custrev.all");
  const lines = (await readFile(path, "utf8")).replace(/\r\n?/g, "\n").split(/(?<=\n)/);
  if (lines.at(-1) === "") lines.pop();
  const rows = lines.map((raw, i) => {
    const line = pyStrip(raw);
    if (!/^[0-9]/.test(line))
      throw new Error(
        `${path}:${i + 1}: expected a line "<digit label> <text>", got ${JSON.stringify(raw.slice(0, 80))}`,
      );
    return [String(Number(line[0])), line.slice(2)];
  });
  return writeCrSplit(crDir, rows, perClass);
}

/**
 * The same split when `custrev.all` is absent, from LM-BFF's test.csv and train.csv: process.py wrote them with
 * 1000 test rows per label, so each label's test rows followed by its train rows are that label's lines of
 * custrev.all in file order, and labels first appear in test.csv in custrev.all's order. Regrouping and cutting
 * at `perClass` therefore gives process.py's 250 split; fields are kept as written (no pandas NA conversion).
 */
export async function resplitCr(crDir: string, perClass = 250): Promise<{ train: number; test: number }> {
  const read = async (f: string) => {
    const p = join(crDir, f);
    return parseCsv(await readFile(p, "utf8"), p).map((r) => r.fields);
  };
  return writeCrSplit(crDir, [...(await read("test.csv")), ...(await read("train.csv"))], perClass);
}

export interface FetchDatasetsOptions {
  /** Where `original/` goes (e.g. `data/`). */
  outDir: string;
  url?: string;
  /** Use this local tar instead of downloading. */
  tar?: string;
  md5?: string;
  /** Apply the kernel paper's changes: SST-2 ⇄ GLUE-SST-2 swap and the CR re-split. */
  kernelPaper?: boolean;
  /** Replace an existing `<outDir>/original`. */
  force?: boolean;
  quiet?: boolean;
}

/**
 * Download (or take) LM-BFF's datasets.tar, extract its `original/` into `outDir`, optionally apply the kernel
 * paper's changes, and record which variant `original/` holds (dataset-variant.ts).
 */
export async function fetchDatasets(opts: FetchDatasetsOptions): Promise<string> {
  const target = join(opts.outDir, "original");
  if (existsSync(target) && !opts.force)
    throw new OptionError("force", (n) => `${target} exists already (use ${n("force")} to replace it)`);
  const tarPath =
    opts.tar ??
    (await downloadFile({
      url: opts.url ?? LMBFF_DATASETS_URL,
      dest: join(opts.outDir, "datasets.tar"),
      md5: opts.md5,
      quiet: opts.quiet,
    }));
  if (opts.tar && opts.md5) {
    const got = await md5File(opts.tar);
    if (got !== opts.md5.toLowerCase())
      throw new Error(`${opts.tar}: md5 ${got} does not match the expected ${opts.md5}`);
  }
  const tmp = join(opts.outDir, `.extract-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    await extractTar(tarPath, tmp);
    const extracted = join(tmp, "original");
    if (!existsSync(extracted)) throw new Error(`${tarPath}: the archive has no original/ folder`);
    if (opts.kernelPaper) {
      await swapSst2(extracted);
      const cr = join(extracted, "cr");
      if (existsSync(join(cr, "custrev.all"))) await splitCustrev(cr);
      else if (existsSync(cr)) await resplitCr(cr);
    }
    await writeDatasetVariant(extracted, opts.kernelPaper ? "kernel-paper" : "lm-bff");
    await rm(target, { recursive: true, force: true });
    await rename(extracted, target);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return target;
}
