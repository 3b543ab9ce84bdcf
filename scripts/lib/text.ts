/**
 * Plain-text cleaning shared by the corpus and dataset builders: whitespace and entity normalization, markup
 * stripping (HTML, reStructuredText), sentence splitting, and the normalized-sentence keys by which the corpus
 * excludes every text of the bundled tasks.
 */
import { createHash } from "node:crypto";

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  mdash: "—",
  ndash: "–",
  hellip: "…",
  rsquo: "’",
  lsquo: "‘",
  rdquo: "”",
  ldquo: "“",
  copy: "©",
  reg: "®",
  trade: "™",
  euro: "€",
  pound: "£",
  cent: "¢",
  deg: "°",
  middot: "·",
  bull: "•",
  laquo: "«",
  raquo: "»",
  aacute: "á",
  eacute: "é",
  iacute: "í",
  oacute: "ó",
  uacute: "ú",
  agrave: "à",
  egrave: "è",
  ccedil: "ç",
  atilde: "ã",
  otilde: "õ",
  ntilde: "ñ",
  uuml: "ü",
  ouml: "ö",
  auml: "ä",
  szlig: "ß",
};

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : " ";
    }
    return ENTITIES[e] ?? ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** One line of text: control characters and runs of whitespace become one space; trimmed. */
export function normalizeWhitespace(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u00a0\u2028\u2029\s]+/g, " ").trim();
}

/** Visible text of an HTML fragment: scripts, styles, code blocks and tags dropped, entities decoded, block
 * elements become paragraph breaks (blank lines). */
export function htmlToText(html: string): string {
  let s = html.replace(/<!--[\s\S]*?-->/g, " ");
  s = s.replace(/<(script|style|pre|code|head|title|table)\b[\s\S]*?<\/\1\s*>/gi, " ");
  s = s.replace(/<\/?(p|div|br|li|ul|ol|h[1-6]|dt|dd|dl|tr|td|blockquote|section|article)\b[^>]*>/gi, "\n\n");
  s = s.replace(/<[^>]*>/g, " ");
  s = decodeEntities(s);
  return s
    .split(/\n\s*\n/)
    .map(normalizeWhitespace)
    .filter((p) => p.length > 0)
    .join("\n\n");
}

/** Prose paragraphs of a reStructuredText source: directives, literal (indented) blocks, tables, section
 * underlines and comments dropped; inline roles and markup reduced to their text. */
export function rstToParagraphs(rst: string): string[] {
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length > 0) out.push(normalizeWhitespace(para.join(" ")));
    para = [];
  };
  for (const line of rst.split(/\r?\n/)) {
    if (/^\s*$/.test(line)) {
      flush();
      continue;
    }
    // indented lines are literal blocks, directive bodies or nested content: skip them
    if (/^\s/.test(line)) {
      flush();
      continue;
    }
    // a section underline makes the line above it a title: drop both
    if (/^([=\-~^"'`#*+_:.])\1{2,}\s*$/.test(line)) {
      para = [];
      continue;
    }
    if (/^\.\.\s/.test(line) || /^[+|]/.test(line)) {
      flush();
      continue;
    }
    if (/^\s*[-*+] |^\s*\d+\. |^\s*#\. |^>>> /.test(line)) {
      flush();
      para.push(line.replace(/^\s*([-*+]|\d+\.|#\.)\s+/, ""));
      continue;
    }
    para.push(line);
  }
  flush();
  return out
    .map((p) =>
      normalizeWhitespace(
        p
          .replace(/:[a-z:]+:`~?(?:[^`<]*?<)?([^`>]*)>?`/g, "$1")
          .replace(/``([^`]*)``/g, "$1")
          .replace(/`([^`<]*?)\s*<[^>]*>`__?/g, "$1")
          .replace(/`([^`]*)`_{0,2}/g, "$1")
          .replace(/\*\*([^*]+)\*\*/g, "$1")
          .replace(/\*([^*]+)\*/g, "$1")
          .replace(/\[#?\w*\]_/g, "")
          .replace(/\|[^|\s]+\|/g, "")
          .replace(/::$/, ":")
          .replace(/\s::\s/g, " "),
      ),
    )
    .filter((p) => p.length > 0);
}

/** Whether a paragraph reads as English prose: enough words, mostly letters, few code characters. */
export function isProse(p: string, minWords = 8): boolean {
  const words = p.split(" ");
  if (words.length < minWords) return false;
  const letters = (p.match(/[A-Za-z]/g) ?? []).length;
  if (letters / p.length < 0.7) return false;
  const code = (p.match(/[{}[\]<>=_\\|#$@^~]/g) ?? []).length;
  if (code / p.length > 0.02) return false;
  return /[.!?:;"”')]$/.test(p);
}

/**
 * Sentences of a text: splits at whitespace after `.`, `!` or `?` (and closing quotes/brackets), whatever
 * follows, so a sentence copied with other capitalization still splits the same way. Abbreviation-naive on
 * purpose ("Mr." becomes its own piece): both sides of the exclusion check split with this same function, so the
 * keys agree.
 */
export function splitSentences(text: string): string[] {
  const t = normalizeWhitespace(text);
  if (t.length === 0) return [];
  return t
    .split(/(?<=[.!?]["'”’)\]]*)\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Normalized form of a sentence: lower case, letters and digits only, single spaces. */
export function normalizeSentence(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Key of a sentence for the exclusion set (first 16 hex digits of the sha256 of its normalized form); `null`
 * for sentences with fewer than `minWords` normalized words, which are too generic to identify a text. */
export function sentenceKey(s: string, minWords = 3): string | null {
  const n = normalizeSentence(s);
  if (n.length === 0 || n.split(" ").length < minWords) return null;
  return createHash("sha256").update(n).digest("hex").slice(0, 16);
}

/** Keys of every sentence of the given texts. */
export function sentenceKeys(texts: Iterable<string>): Set<string> {
  const keys = new Set<string>();
  for (const text of texts) {
    for (const s of splitSentences(text)) {
      const k = sentenceKey(s);
      if (k !== null) keys.add(k);
    }
  }
  return keys;
}

/**
 * Removes from `doc` every sentence whose key is in `excluded`. Returns the remaining text, or `null` when more
 * than half of its sentences were removed (what is left would be fragments of an excluded text).
 */
export function excludeSentences(doc: string, excluded: ReadonlySet<string>): { text: string | null; removed: number } {
  const sentences = splitSentences(doc);
  const kept = sentences.filter((s) => {
    const k = sentenceKey(s);
    return k === null || !excluded.has(k);
  });
  const removed = sentences.length - kept.length;
  if (removed === 0) return { text: doc, removed };
  if (kept.length === 0 || removed * 2 > sentences.length) return { text: null, removed };
  return { text: kept.join(" "), removed };
}

/** Key of a whole document for de-duplication. */
export function documentKey(doc: string): string {
  return createHash("sha256").update(normalizeSentence(doc)).digest("hex");
}

/** Seeded order: sorts items by the sha256 of `seed:key` (a permutation that depends on nothing else). */
export function seededOrder<T>(items: readonly T[], key: (t: T) => string, seed: number | string): T[] {
  const tagged = items.map((t) => ({
    t,
    h: createHash("sha256")
      .update(`${seed}:${key(t)}`)
      .digest("hex"),
  }));
  tagged.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  return tagged.map((x) => x.t);
}

/** Consecutive pieces joined by single spaces into runs of at most `maxChars` (a longer piece is a run alone). */
export function packRuns(pieces: Iterable<string>, maxChars: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const p of pieces) {
    if (cur.length > 0 && cur.length + 1 + p.length > maxChars) {
      out.push(cur);
      cur = "";
    }
    cur = cur.length === 0 ? p : `${cur} ${p}`;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Cuts `text` to at most `maxChars`, at the last sentence end that fits (else the last word boundary). */
export function cutText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const sentences = splitSentences(text);
  let out = "";
  for (const s of sentences) {
    const next = out.length === 0 ? s : `${out} ${s}`;
    if (next.length > maxChars) break;
    out = next;
  }
  if (out.length > 0) return out;
  const cut = text.slice(0, maxChars);
  const sp = cut.lastIndexOf(" ");
  return (sp > maxChars / 2 ? cut.slice(0, sp) : cut).trim();
}
