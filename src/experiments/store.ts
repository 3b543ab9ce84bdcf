import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { canonicalJson } from "../util/canonical.ts";
import { type ResultRecord, recordProblem } from "./records.ts";

/**
 * The results store: a directory with one JSON Lines file per finished job, `records/<job key>.jsonl`, each
 * written atomically (temp file + rename). Why per-job files rather than one shared file appended with O_APPEND:
 * - a SIGKILL at any moment leaves either the complete file or none (a torn append would leave half a line);
 * - O_APPEND is not atomic on NFS, where Slurm/Kubernetes array jobs usually share their output directory;
 * - no two shards (or concurrent jobs) ever write the same file, and a job's records can never be duplicated:
 *   the file name is the job's content key, which is also how a resumed sweep knows the job is done.
 * Readers merge the files (sorted by key); `mergeTo` writes the merged view as one JSON Lines file.
 */
export class ResultsStore {
  readonly recordsDir: string;
  constructor(readonly dir: string) {
    this.recordsDir = join(dir, "records");
  }

  fileFor(key: string): string {
    if (!/^[0-9a-f]{16}$/.test(key)) throw new Error(`results store: bad job key "${key}"`);
    return join(this.recordsDir, `${key}.jsonl`);
  }

  has(key: string): boolean {
    try {
      return statSync(this.fileFor(key)).isFile();
    } catch {
      return false;
    }
  }

  /** Why a finished job's record file cannot be used (unreadable, not records), or undefined when it is fine. */
  problem(key: string): string | undefined {
    try {
      if (readResultsFile(this.fileFor(key)).length === 0) return `${this.fileFor(key)}: no records`;
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** The keys of all finished jobs. */
  keys(): Set<string> {
    return new Set(listRecordFiles(this.recordsDir).map((f) => f.slice(0, -".jsonl".length)));
  }

  async put(key: string, records: ResultRecord[]): Promise<void> {
    for (const r of records) {
      const problem = recordProblem(r);
      if (problem) throw new Error(`result record of job ${key}: ${problem}`);
      if (r.key !== key) throw new Error(`result record carries key ${r.key}, expected ${key}`);
    }
    await writeFileAtomic(this.fileFor(key), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  }

  read(): ResultRecord[] {
    return readResultsDir(this.recordsDir);
  }

  /** Write the records (of the jobs in `keys`, default all) as one JSON Lines file, atomically. */
  async mergeTo(path: string, keys?: Set<string>): Promise<number> {
    const records = this.read().filter((r) => !keys || keys.has(r.key));
    await writeFileAtomic(path, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    return records.length;
  }
}

/** Finished-record files in a directory, sorted; hidden files (in-flight atomic-write temps) are ignored. */
function listRecordFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith(".jsonl") && !n.startsWith(".")).sort();
}

/** Parse a JSON Lines file of result records; any bad line is an error naming file and line. */
export function readResultsFile(path: string): ResultRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read results file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const out: ResultRecord[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON${i === lines.length - 1 ? " (truncated last line?)" : ""}`);
    }
    const problem = recordProblem(parsed);
    if (problem) throw new Error(`${path}:${i + 1}: not a result record: ${problem}`);
    out.push(parsed as ResultRecord);
  });
  return out;
}

function readResultsDir(dir: string): ResultRecord[] {
  return listRecordFiles(dir).flatMap((f) => readResultsFile(join(dir, f)));
}

/** Identity of a record: its job, its method (an ft job's posthoc-lin record) and its hyperparameter configuration. */
export function recordId(r: ResultRecord): string {
  return `${r.key}|${r.method}|${canonicalJson(r.hyperparameters)}`;
}

/**
 * Read results from files and directories: a `.jsonl` file, a sweep output dir (its `records/`), or a directory
 * of `.jsonl` files. Records seen twice (e.g. a sweep dir and its merged results.jsonl) are kept once.
 */
export function readResults(paths: string[]): { records: ResultRecord[]; duplicates: number } {
  const seen = new Set<string>();
  const records: ResultRecord[] = [];
  let duplicates = 0;
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`results not found: ${p}`);
    }
    let batch: ResultRecord[];
    if (st.isDirectory()) {
      const recordsDir = join(p, "records");
      const sub = (() => {
        try {
          return statSync(recordsDir).isDirectory();
        } catch {
          return false;
        }
      })();
      batch = readResultsDir(sub ? recordsDir : p);
    } else batch = readResultsFile(p);
    for (const r of batch) {
      const id = recordId(r);
      if (seen.has(id)) duplicates++;
      else {
        seen.add(id);
        records.push(r);
      }
    }
  }
  return { records, duplicates };
}
