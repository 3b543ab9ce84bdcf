/**
 * Small made-up data sets in LM-BFF's file layouts, for tests that need files of a task's shape (columns, headers,
 * labels, counts) but not real text: deterministic for a seed, written once per call into the folder given.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatCsv } from "../../src/data/csv.ts";

const WORDS = ["the", "a", "of", "to", "in", "it", "that", "for", "on", "with", "this", "from", "good", "bad"];
const NOUNS = ["film", "story", "city", "river", "team", "market", "song", "road", "garden", "letter"];

/** mulberry32: a tiny seeded generator, enough to vary made-up sentences (or pick seeded test points). */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` sentences of 4–9 words each (a noun among them), ending in `end`. */
export function sentences(n: number, seed: number, end = " ."): string[] {
  const rand = generator(seed);
  const pick = (xs: readonly string[]) => xs[Math.floor(rand() * xs.length)];
  return Array.from({ length: n }, () => {
    const words = Array.from({ length: 3 + Math.floor(rand() * 6) }, () => pick(WORDS));
    words.splice(Math.floor(rand() * words.length), 0, pick(NOUNS));
    return `${words.join(" ")}${end}`;
  });
}

/** `perLabel` label strings of each label, grouped by label as LM-BFF's k-shot files are. */
const grouped = (labels: readonly string[], perLabel: number) => labels.flatMap((l) => Array(perLabel).fill(l));

/**
 * A k-shot split folder of a sentence-pair GLUE task with LM-BFF's QNLI/RTE layout (`index`, two text columns,
 * `label`; header row): train and dev with `perLabel` examples per label, test with `test` examples.
 */
export function writePairSplit(
  dir: string,
  opts: { labels: readonly string[]; perLabel?: number; test?: number; seed?: number },
): string {
  const { labels, perLabel = 16, test = 40, seed = 0 } = opts;
  mkdirSync(dir, { recursive: true });
  const files = { train: grouped(labels, perLabel), dev: grouped(labels, perLabel), test: [] as string[] };
  files.test = Array.from({ length: test }, (_, i) => labels[i % labels.length]);
  Object.entries(files).forEach(([split, ys], s) => {
    const first = sentences(ys.length, seed * 1000 + 2 * s, " ?");
    const second = sentences(ys.length, seed * 1000 + 2 * s + 1);
    const rows = ys.map((y, i) => [i, first[i], second[i], y].join("\t"));
    writeFileSync(join(dir, `${split}.tsv`), `index\tquestion\tsentence\tlabel\n${rows.join("\n")}\n`);
  });
  return dir;
}

/**
 * A k-shot split folder of a single-sentence task in GLUE-SST-2's layout (`sentence`, `label`; header row) holding
 * the given sentences of each split, labelled 0, 1, 0, … in order.
 */
export function writeSentenceSplit(dir: string, splits: Record<string, readonly string[]>): string {
  mkdirSync(dir, { recursive: true });
  for (const [split, sents] of Object.entries(splits))
    writeFileSync(join(dir, `${split}.tsv`), `sentence\tlabel\n${sents.map((x, i) => `${x}\t${i % 2}`).join("\n")}\n`);
  return dir;
}

/** An LM-BFF `original/<name>/` folder of a single-sentence csv task (`label,text` rows, no header). */
export function writeCsvOriginal(
  originalDir: string,
  name: string,
  opts: { labels: readonly string[]; train: number; test: number; seed?: number },
): string {
  const { labels, train, test, seed = 0 } = opts;
  const dir = join(originalDir, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, n, s] of [
    ["train.csv", train, seed * 1000],
    ["test.csv", test, seed * 1000 + 1],
  ] as const) {
    const texts = sentences(n, s);
    writeFileSync(join(dir, file), formatCsv(texts.map((t, i) => [labels[i % labels.length], t])));
  }
  return dir;
}
