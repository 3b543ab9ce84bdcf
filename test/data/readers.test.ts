import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatCsv, parseCsv } from "../../src/data/csv.ts";
import { minColumns, readCsv, readGeneric, readSplit, readTsv } from "../../src/data/readers.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { expectOptionError } from "../helpers/option-error.ts";
import { lmbff, needs } from "../helpers/shared-data.ts";

const dir = mkdtempSync(join(tmpdir(), "entk-readers-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("CSV parsing and pandas-compatible writing", () => {
  it("parses quotes, doubled quotes, embedded commas/newlines, CRLF and skips blank lines", () => {
    const recs = parseCsv('0,"a, b"\r\n1,"say ""hi"""\n\n2,"multi\nline"\n3,un"quoted\n');
    expect(recs.map((r) => r.fields)).toEqual([
      ["0", "a, b"],
      ["1", 'say "hi"'],
      ["2", "multi\nline"],
      ["3", 'un"quoted'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4, 6]);
    expect(() => parseCsv('0,"open\n1,x\n', "f.csv")).toThrow(/f\.csv:1: unterminated quoted field/);
  });

  it("writes minimal quoting like Python's csv module", () => {
    // Python csv QUOTE_MINIMAL (what pandas to_csv uses); the k-shot acceptance test checks the writer on real files.
    expect(
      formatCsv([
        ["0", "a, b"],
        ["1", 'say "hi"'],
        ["2", null],
        ["3", " pad "],
      ]),
    ).toBe('0,"a, b"\n1,"say ""hi"""\n2,\n3, pad \n');
    expect(formatCsv([[""]])).toBe('""\n');
  });
});

describe("task readers", () => {
  it("reads real GLUE and csv files with the task layouts", needs("ENTK_LMBFF_DIR"), () => {
    const rte = loadTask("RTE");
    const r = readTsv(lmbff("original", "RTE", "dev.tsv"), rte.data, rte.labels);
    expect(r.examples.length).toBe(277);
    expect(r.examples[0].texts[1]).toBe("Christopher Reeve had an accident.");
    expect(r.examples[0].label).toBe("not_entailment");
    expect(r.examples[0].source).toMatch(/dev\.tsv:2$/);
    const mrpc = loadTask("MRPC");
    const m = readTsv(lmbff("original", "MRPC", "dev.tsv"), mrpc.data, mrpc.labels);
    expect(m.examples.length).toBe(408);
    // Quoting disabled: the leading quote is a literal character.
    expect(m.examples[0].texts[1].startsWith('" The foodservice')).toBe(true);
    // cr's test set holds LM-BFF's whitespace-only rows ("0, " at line 769); they are data, not errors.
    const cr = loadTask("cr");
    const c = readCsv(lmbff("original", "cr", "test.csv"), cr.data, cr.labels);
    expect(c.examples.length).toBe(2000);
    expect(c.examples[768].texts).toEqual([" "]);
    const ag = loadTask("ag_news");
    const a = readCsv(lmbff("original", "ag_news", "test.csv"), ag.data, ag.labels);
    expect(a.examples.length).toBe(7600);
    expect(a.examples[0].label).toBe("3");
    expect(a.examples[0].texts).toEqual([
      "Unions representing workers at Turner   Newall say they are 'disappointed' after talks with stricken parent firm Federal Mogul.",
    ]);
  });

  it("reads a k-shot split dir by the layout's file names", () => {
    const t = loadTask("SST-2");
    const d = join(dir, "split");
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "dev.tsv"), "sentence\tlabel\ngood .\t1\nbad .\t0\n");
    const r = readSplit(d, t.data, "dev", t.labels);
    expect(r.examples.map((e) => [e.texts[0], e.label])).toEqual([
      ["good .", "1"],
      ["bad .", "0"],
    ]);
  });

  it("minimum column counts keep a from-the-end label off the text columns", () => {
    expect(minColumns([7, 8], -1)).toBe(10);
    expect(minColumns([3, 4], 0)).toBe(5);
    expect(minColumns([0], 1)).toBe(2);
  });

  it("malformed rows: error naming file:line, or counted skips with skipBadRows", () => {
    const t = loadTask("RTE");
    const p = file(
      "bad.tsv",
      "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n2\ta\tb\tmaybe\n3\t\tb\tentailment\n",
    );
    expectOptionError(
      () => readTsv(p, t.data, t.labels),
      "skipBadRows",
      /bad\.tsv:3: expected at least 4 tab-separated columns, got 3 \(use skipBadRows/,
    );
    const skipped: string[] = [];
    const r = readTsv(p, t.data, t.labels, { skipBadRows: true, onSkip: (m) => skipped.push(m) });
    expect(r.examples.length).toBe(1);
    expect(r.skipped).toBe(3);
    expect(skipped[1]).toMatch(/bad\.tsv:4: unknown label "maybe" \(expected one of entailment, not_entailment\)/);
    expect(skipped[2]).toMatch(/bad\.tsv:5: empty text in column 1/);
    const ws = readTsv(file("ws.tsv", "index\ts1\ts2\tlabel\n0\t \tb\tentailment\n"), t.data, t.labels);
    expect(ws.examples[0].texts).toEqual([" ", "b"]);
    const c = loadTask("mr");
    const pc = file("bad.csv", "0,fine\n7,what\n");
    expect(() => readCsv(pc, c.data, c.labels)).toThrow(/bad\.csv:2: unknown label "7"/);
  });

  it("generic JSON Lines with a field mapping on MNLI dev.jsonl", needs("ENTK_LMBFF_DIR"), () => {
    const mnli = loadTask("MNLI");
    const r = readGeneric(
      lmbff("eval", "MNLI", "dev.jsonl"),
      { format: "jsonl", text: ["premise", "hypothesis"], label: "label" },
      mnli.labels,
    );
    expect(r.examples.length).toBe(9815);
    expect(r.examples[0].texts[0]).toBe("The new rights are nice enough");
    const counts = Object.fromEntries(mnli.labels.map((l) => [l, r.examples.filter((e) => e.label === l).length]));
    expect(counts).toEqual({ contradiction: 3213, entailment: 3479, neutral: 3123 });
  });

  it("generic JSON Lines / CSV with a field mapping", () => {
    const nli = ["entailment", "neutral", "contradiction"];
    const pp = file(
      "p.jsonl",
      '{"premise":"It rains.","hypothesis":"It is wet.","label":"entailment"}\n{"hypothesis":"b","premise":"a","label":"neutral"}\n',
    );
    const r1 = readGeneric(pp, { format: "jsonl", text: ["premise", "hypothesis"], label: "label" }, nli);
    expect(r1.examples.map((e) => [e.texts, e.label])).toEqual([
      [["It rains.", "It is wet."], "entailment"],
      [["a", "b"], "neutral"],
    ]);
    const pj = file("u.jsonl", '{"q":"a","y":1}\n{"q":"b"}\nnot json\n');
    expect(() => readGeneric(pj, { format: "jsonl", text: ["q"], label: "y" }, ["0", "1"])).toThrow(
      /u\.jsonl:2: missing field "y"/,
    );
    const r2 = readGeneric(pj, { format: "jsonl", text: ["q"], label: "y" }, ["0", "1"], { skipBadRows: true });
    expect([r2.examples.length, r2.skipped]).toEqual([1, 2]);
    const pc = file("u.csv", 'text,gold\n"hi, there",pos\nbye,neg\n');
    const r3 = readGeneric(pc, { format: "csv", text: ["text"], label: "gold" }, ["neg", "pos"]);
    expect(r3.examples.map((e) => [e.texts[0], e.label])).toEqual([
      ["hi, there", "pos"],
      ["bye", "neg"],
    ]);
    expect(() => readGeneric(pc, { format: "csv", text: ["txt"], label: "gold" }, ["neg", "pos"])).toThrow(
      /u\.csv:1: header has no field "txt"/,
    );
  });
});
