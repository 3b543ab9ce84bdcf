import { describe, expect, it } from "vitest";
import { passages } from "../../scripts/build-datasets.ts";
import { mailText, parseMail } from "../../scripts/lib/spam.ts";
import {
  cutText,
  excludeSentences,
  htmlToText,
  isProse,
  rstToParagraphs,
  sentenceKeys,
  splitSentences,
} from "../../scripts/lib/text.ts";
import { formatCsv, parseCsv } from "../../src/data/csv.ts";

/** The test's own normalization (not the library's): lower case, runs of non-alphanumerics → one space. */
const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

describe("corpus exclusion of bundled task texts", () => {
  // a small task file as the builders write it (label, text)
  const taskCsv = formatCsv([
    ["0", "The Congress shall consider the treaty with great care. Our harbors need new lighthouses."],
    ["1", "Win a free cruise today! Reply to this message now."],
  ]);
  const taskTexts = parseCsv(taskCsv, "fixture.csv").map((r) => r.fields[1]);
  const taskSentences = taskTexts.flatMap((t) => splitSentences(t));
  const excluded = sentenceKeys(taskTexts);

  const corpus = [
    // a task sentence inside other prose, with different case, spacing and punctuation
    "The river was high that spring. the  congress shall consider the TREATY with great care! Farmers planted late. The harvest was good anyway.",
    // no task text at all
    "Compilers translate source code into machine code. Interpreters execute it directly.",
    // mostly task text: dropped as a whole
    "Win a free cruise today. Reply to this message, now! It rained.",
  ];

  it("removes every task sentence and keeps the rest", () => {
    const out = corpus.map((d) => excludeSentences(d, excluded));
    expect(out[0].removed).toBe(1);
    expect(out[0].text).toBe("The river was high that spring. Farmers planted late. The harvest was good anyway.");
    expect(out[1]).toEqual({ text: corpus[1], removed: 0 });
    expect(out[2].text).toBeNull();
    const kept = out.map((o) => o.text).filter((t): t is string => t !== null);
    // independent check: no normalized task sentence is a substring of any normalized kept document
    for (const s of taskSentences) for (const d of kept) expect(norm(d).includes(norm(s))).toBe(false);
    // and no kept sentence has an excluded key
    expect([...sentenceKeys(kept)].filter((k) => excluded.has(k))).toEqual([]);
  });

  it("ignores sentences too short to identify a text", () => {
    const keys = sentenceKeys(["Thank you. The treaty was signed."]);
    expect(keys.size).toBe(1);
    expect(excludeSentences("Thank you. We went home early today.", keys).removed).toBe(0);
  });
});

describe("markup stripping", () => {
  it("keeps the prose of reStructuredText", () => {
    const rst = [
      "Title",
      "=====",
      "",
      "The :func:`len` function returns the number of items in a ``list`` or",
      "another container, see `the tutorial <https://x>`_ for more.",
      "",
      ".. note::",
      "",
      "   Indented note body.",
      "",
      "Example::",
      "",
      "   >>> len([1, 2])",
      "   2",
    ].join("\n");
    expect(rstToParagraphs(rst)).toEqual([
      "The len function returns the number of items in a list or another container, see the tutorial for more.",
      "Example:",
    ]);
  });

  it("keeps the visible text of HTML", () => {
    const html =
      "<html><head><title>T</title></head><body><p>Tables hold rows &amp; columns.</p><pre>SELECT 1;</pre><p>Each row is a record.</p></body></html>";
    expect(htmlToText(html)).toBe("Tables hold rows & columns.\n\nEach row is a record.");
  });

  it("tells prose from code", () => {
    expect(isProse("The function returns the number of items in the container it is given.")).toBe(true);
    expect(isProse("for (let i = 0; i < n; i++) { total += a[i]; } return total;")).toBe(false);
  });

  it("cuts at a sentence end", () => {
    expect(cutText("One two three. Four five six. Seven.", 20)).toBe("One two three.");
    expect(cutText("abcdefghij klmnop", 12)).toBe("abcdefghij");
  });
});

describe("mail parsing", () => {
  it("takes the subject and the plain-text part of a multipart mail", () => {
    const raw = [
      "From a@b.c  Thu Aug 22 13:17:22 2002",
      "Subject: Re: Meeting",
      " moved",
      'Content-Type: multipart/alternative; boundary="XX"',
      "",
      "--XX",
      "Content-Type: text/plain",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "See you at n=",
      "oon.",
      "> old quoted text",
      "-- ",
      "signature",
      "--XX",
      "Content-Type: text/html",
      "",
      "<p>See you at noon.</p>",
      "--XX--",
    ].join("\n");
    const m = parseMail("easy-ham-1/x.txt", raw);
    expect(m).toEqual({ id: "easy-ham-1/x.txt", spam: false, subject: "Re: Meeting moved", body: "See you at noon." });
    expect(m && mailText(m)).toBe("Meeting moved. See you at noon.");
  });
});

describe("sotu passages", () => {
  it("are runs of consecutive whole sentences of at most 200 characters, in order", () => {
    const sentences = Array.from(
      { length: 40 },
      (_, i) => `Sentence number ${i} says ${"x".repeat((i % 7) + 1)} something.`,
    );
    const long = `A ${"very ".repeat(60)}long sentence.`;
    const out = passages([...sentences.slice(0, 20), long, ...sentences.slice(20)].join(" "));
    expect(out.every((p) => p.length <= 200)).toBe(true);
    const pieces = out.flatMap((p) => splitSentences(p));
    expect(pieces.filter((s) => s.startsWith("Sentence"))).toEqual(sentences);
    // the over-long sentence is cut at a word, not dropped
    expect(pieces.filter((s) => s.startsWith("A very"))).toHaveLength(1);
  });
});
