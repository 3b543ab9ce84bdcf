/**
 * The one place tests find data the repository may not ship (it is never copied into the repository). Each kind
 * comes from an environment variable; tests that need it pass `needs(...)` as their options and are skipped while
 * it is unset, and the summary reporter (test/summary-reporter.ts) prints one line with how many were skipped and
 * which variables run them. `.ci/run` sets the variables whose data is in the project's shared folder beside the
 * checkout, with ENTK_REQUIRE_SHARED_DATA=1: then none of these tests is skipped, and one whose data is missing fails.
 *
 * - ENTK_LMBFF_DIR: a folder in LM-BFF's data layout: `original/<TASK>/` (what `entk data fetch` writes),
 *   `k-shot/<TASK>/<k>-<seed>/` (LM-BFF's official splits), LM-BFF's md5 list of its 16-shot splits as
 *   `lm-bff-kshot-checksum.txt` (LM-BFF: `data/k-shot/checksum`) and, optionally, `eval/<TASK>/*.jsonl`.
 * - ENTK_ROBERTA_TOKENIZER_DIR: roberta-base's slow-tokenizer files (`vocab.json`, `merges.txt`).
 * - ENTK_REFERENCE_DOC: the kernel paper's reference protocol document whose section 8 holds Table 2, the
 *   independent source src/report/paper-table2.json is checked against.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

declare module "vitest" {
  interface TaskMeta {
    /** The environment variable whose data this test needs; the summary reporter counts its skips. */
    needsEnv?: SharedDataVar;
  }
}

export const SHARED_DATA_VARS = ["ENTK_LMBFF_DIR", "ENTK_ROBERTA_TOKENIZER_DIR", "ENTK_REFERENCE_DOC"] as const;
export type SharedDataVar = (typeof SHARED_DATA_VARS)[number];

/** The path a variable names, resolved against the working directory; an unset variable gives undefined. */
function fromEnv(name: SharedDataVar): string | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  const path = resolve(value);
  // A set variable that points nowhere is a mistake, not a reason to skip.
  if (!existsSync(path)) throw new Error(`${name}=${value}: ${path} does not exist`);
  return path;
}

const paths: Record<SharedDataVar, string | undefined> = Object.fromEntries(
  SHARED_DATA_VARS.map((v) => [v, fromEnv(v)]),
) as Record<SharedDataVar, string | undefined>;

/** Set by .ci/run where the data is there: a test that needs an unset variable then runs and fails, naming it. */
const required = process.env.ENTK_REQUIRE_SHARED_DATA === "1";

/** Test options: skipped unless the variable is set, and tagged so the summary reporter counts the skip. */
export function needs(name: SharedDataVar): { skip: boolean; meta: { needsEnv: SharedDataVar } } {
  return { skip: !required && paths[name] === undefined, meta: { needsEnv: name } };
}

function under(name: SharedDataVar, parts: string[]): string {
  const base = paths[name];
  // Reached under ENTK_REQUIRE_SHARED_DATA=1, or from a test that did not declare needs(name).
  if (base === undefined)
    throw new Error(`${name} is not set (this test needs it; declare such tests with needs("${name}"))`);
  return join(base, ...parts);
}

/** A path inside ENTK_LMBFF_DIR, e.g. `lmbff("original", "RTE", "dev.tsv")`. */
export const lmbff = (...parts: string[]): string => under("ENTK_LMBFF_DIR", parts);

/** LM-BFF's official md5s of its 16-shot splits: relative path (`SST-2/16-13/train.tsv`) → md5. */
export function lmbffChecksums(): Map<string, string> {
  return new Map(
    readFileSync(lmbff("lm-bff-kshot-checksum.txt"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const [md5, path] = l.trim().split(/\s+/);
        return [path, md5] as [string, string];
      }),
  );
}

/** A path inside ENTK_ROBERTA_TOKENIZER_DIR. */
export const robertaTokenizer = (...parts: string[]): string => under("ENTK_ROBERTA_TOKENIZER_DIR", parts);

/** The reference document ENTK_REFERENCE_DOC names. */
export const referenceDoc = (): string => under("ENTK_REFERENCE_DOC", []);
