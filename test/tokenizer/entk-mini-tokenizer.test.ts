import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSplit } from "../../src/data/readers.ts";
import { taskEncoder } from "../../src/prompts/encode.ts";
import { loadTask, PAPER_TASKS, type TaskDef } from "../../src/prompts/task.ts";
import { resolveLabelWords } from "../../src/prompts/template.ts";
import { parseMerges, robertaVocabFromGpt2 } from "../../src/tokenizer/bpe-gpt2.ts";
import { bytesToUnicode, type EntkTokenizer, loadTokenizer } from "../../src/tokenizer/index.ts";

const MINI = new URL("../../models/entk-mini/", import.meta.url).pathname;
const ROBERTA_DIR = process.env.ENTK_ROBERTA_TOKENIZER_DIR;

let tok: EntkTokenizer;
let tmp: string;
beforeAll(async () => {
  tok = await loadTokenizer(MINI);
  tmp = mkdtempSync(join(tmpdir(), "entk-mini-tok-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The text a byte-level BPE piece sequence spells: GPT-2's byte↔unicode table inverted, then UTF-8. */
function spell(pieces: string[]): string {
  const inv = new Map(bytesToUnicode().map((ch, b) => [ch, b]));
  const bytes = [...pieces.join("")].map((ch) => {
    const b = inv.get(ch);
    if (b === undefined) throw new Error(`not a byte symbol: ${ch}`);
    return b;
  });
  return Buffer.from(bytes).toString("utf8");
}

const TEXTS = [
  "It was great.",
  "  leading spaces, tabs\tand\nnewlines  ",
  "Ünïcödé — “quotes”, emoji 🙂 and 日本語.",
  "numbers 3,000,000 florins and 12.5% in 1790",
  "Who is the author of the Jargon File ?",
];

describe("entk-mini tokenizer (GPT-2 pieces, RoBERTa specials)", () => {
  it("has RoBERTa's specials around GPT-2's 50,257 pieces: <s>=0 <pad>=1 </s>=2 <unk>=3 … <mask>=50261", () => {
    expect([tok.clsId, tok.padId, tok.sepId, tok.unkId, tok.maskId]).toEqual([0, 1, 2, 3, 50261]);
    expect(tok.vocabSize).toBe(50262);
    // GPT-2 ids: "!" is 0, "Ġthe" is 262, "<|endoftext|>" is 50256 (each + 4 here).
    expect(tok.tokenToId("!")).toBe(4);
    expect(tok.tokenToId("Ġthe")).toBe(266);
    expect(tok.tokenToId("<|endoftext|>")).toBe(50260);
  });

  it("round-trips text: the pieces spell the input bytes exactly, and ids map back to the pieces", () => {
    for (const t of TEXTS) {
      const pieces = tok.tokenize(t);
      expect(spell(pieces)).toBe(t);
      expect(tok.encode(t).map((id) => tok.idToToken(id))).toEqual(pieces);
    }
  });

  it("loads the same tokenizer from vocab.json + merges.txt alone (no tokenizer.json)", async () => {
    const d = join(tmp, "slow");
    mkdirSync(d, { recursive: true });
    copyFileSync(join(MINI, "vocab.json"), join(d, "vocab.json"));
    // merges.txt is not shipped (it is byte-identical to roberta-base's): write it from tokenizer.json's merges.
    const merges: (string | string[])[] = JSON.parse(readFileSync(join(MINI, "tokenizer.json"), "utf8")).model.merges;
    const lines = merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
    writeFileSync(join(d, "merges.txt"), `#version: 0.2\n${lines.join("\n")}\n`);
    const slow = await loadTokenizer(d);
    expect(slow.vocabSize).toBe(tok.vocabSize);
    expect(slow.maskId).toBe(tok.maskId);
    for (const t of TEXTS) expect(slow.encode(t)).toEqual(tok.encode(t));
  });

  it("vocabulary and merge parsing: ids shifted by 4, <mask> last; malformed merge lines named", () => {
    const v = robertaVocabFromGpt2({ a: 1, b: 0, ab: 2 });
    expect(v).toEqual({ "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, b: 4, a: 5, ab: 6, "<mask>": 7 });
    expect(() => robertaVocabFromGpt2({ a: 0, b: 0 })).toThrow(/each once/);
    expect(parseMerges("#version: 0.2\na b\nab c\n")).toEqual(["a b", "ab c"]);
    expect(() => parseMerges("#version: 0.2\na b c\n", "m.txt")).toThrow(/m\.txt:2/);
  });
});

/** Every example of the bundled tasks' evaluation files (datasets/), prompt-encoded. */
function bundledExamples(): { task: TaskDef; texts: string[][] }[] {
  const out: { task: TaskDef; texts: string[][] }[] = [];
  const root = new URL("../../datasets/", import.meta.url).pathname;
  // The bundled originals hold train.csv and test.csv (their dev sets are drawn from train by the k-shot sampler).
  const originals = (name: string) => ({
    ...loadTask(name).data,
    files: { train: "train.csv", dev: "train.csv", test: "test.csv" },
  });
  for (const name of ["spam", "sotu"]) {
    const task = loadTask(name);
    const layout = originals(name);
    const dir = join(root, "original", name);
    const texts = (["train", "test"] as const).flatMap((s) =>
      readSplit(dir, layout, s, task.labels).examples.map((e) => e.texts),
    );
    out.push({ task, texts });
  }
  return out;
}

describe.skipIf(!ROBERTA_DIR)("acceptance: roberta-base's vocab.json + merges.txt (ENTK_ROBERTA_TOKENIZER_DIR)", () => {
  let rb: EntkTokenizer;
  beforeAll(async () => {
    rb = await loadTokenizer(ROBERTA_DIR!);
  });

  it("every label word of the 14 tasks is one token; great → 372, terrible → 6587", () => {
    for (const name of PAPER_TASKS) {
      const task = loadTask(name);
      expect(resolveLabelWords(rb, task.mapping, task.labels)).toHaveLength(task.labels.length);
      expect(resolveLabelWords(tok, task.mapping, task.labels)).toHaveLength(task.labels.length);
    }
    expect(rb.encode(" great")).toEqual([372]);
    expect(rb.encode(" terrible")).toEqual([6587]);
    expect(rb.maskId).toBe(50264);
  });

  it("entk-mini gives roberta-base's pieces on every prompt of the bundled tasks (and the label words)", () => {
    let n = 0;
    for (const { task, texts } of bundledExamples()) {
      const a = taskEncoder(tok, task);
      const b = taskEncoder(rb, task);
      expect(a.labelWordIds.map((id) => tok.idToToken(id))).toEqual(b.labelWordIds.map((id) => rb.idToToken(id)));
      for (const t of texts) {
        const ex = { texts: t, label: task.labels[0], source: task.name };
        const pa = a.encode(ex).inputIds.map((id) => tok.idToToken(id));
        const pb = b.encode(ex).inputIds.map((id) => rb.idToToken(id));
        expect(pa).toEqual(pb);
        n++;
      }
    }
    expect(n).toBeGreaterThan(2500);
  });
});
