import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { writeFileAtomic } from "../util/atomic.ts";
import { progressBar } from "../util/progress.ts";
import { formatCsv, pandasValue, parseCsv } from "./csv.ts";

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
  return new Error(
    `cannot download ${url}: ${why} (offline? download the file by other means and pass it with --tar FILE)`,
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

/**
 * The kernel paper's CR re-split (`process.py` with 1000 → 250 test examples per class). Its `process.py` was
 * not inspected (docs/protocol.md §1.3): this assumes LM-BFF's split is "the first 1,000 lines of each class are the
 * test set", so each class in file order is test rows then train rows, and takes the first `perClass` of each
 * class as the new test set and the rest as train, classes in order of first appearance.
 */
export async function resplitCr(crDir: string, perClass = 250): Promise<{ train: number; test: number }> {
  const read = async (f: string) => {
    const p = join(crDir, f);
    return parseCsv(await readFile(p, "utf8"), p).map((r) => r.fields.map(pandasValue));
  };
  const test = await read("test.csv");
  const train = await read("train.csv");
  const byClass = new Map<string, (string | null)[][]>();
  for (const r of [...test, ...train]) {
    const k = String(r[0]);
    const g = byClass.get(k) ?? [];
    g.push(r);
    byClass.set(k, g);
  }
  const newTest = [...byClass.values()].flatMap((g) => g.slice(0, perClass));
  const newTrain = [...byClass.values()].flatMap((g) => g.slice(perClass));
  await writeFileAtomic(join(crDir, "test.csv"), formatCsv(newTest));
  await writeFileAtomic(join(crDir, "train.csv"), formatCsv(newTrain));
  return { train: newTrain.length, test: newTest.length };
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

/** Download (or take) LM-BFF's datasets.tar, extract its `original/` into `outDir`, optionally apply the kernel paper's changes. */
export async function fetchDatasets(opts: FetchDatasetsOptions): Promise<string> {
  const target = join(opts.outDir, "original");
  if (existsSync(target) && !opts.force) throw new Error(`${target} exists already (use --force to replace it)`);
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
      if (existsSync(join(extracted, "cr"))) await resplitCr(join(extracted, "cr"));
    }
    await rm(target, { recursive: true, force: true });
    await rename(extracted, target);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return target;
}
