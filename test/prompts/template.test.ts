import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  encodeNoPrompt,
  encodePrompt,
  parseTemplate,
  resolveLabelWords,
  validateTemplate,
} from "../../src/prompts/template.ts";
import { buildTokenizerFiles, type EntkTokenizer, tokenizerFromJson } from "../../src/tokenizer/index.ts";
import { expectOptionError } from "../helpers/option-error.ts";

function synth(arch: "roberta" | "bert"): EntkTokenizer {
  const f = buildTokenizerFiles(arch);
  return tokenizerFromJson(JSON.parse(f["tokenizer.json"]), JSON.parse(f["tokenizer_config.json"]));
}
const toks = { roberta: synth("roberta"), bert: synth("bert") };

interface OracleCase {
  template: string;
  texts: string[];
  first: number | null;
  other: number | null;
  maxLength: number;
  inputIds: number[];
  maskPos: number;
}

describe("template engine vs LM-BFF's tokenize_multipart_input (Python + Rust tokenizers oracle)", () => {
  const oracle = JSON.parse(
    readFileSync(new URL("../fixtures/tokenizer/prompt-oracle.json", import.meta.url), "utf8"),
  ) as Record<"roberta" | "bert", OracleCase[]>;
  for (const arch of ["roberta", "bert"] as const) {
    it(`${arch}: every piece type, sentence limits and tail truncation`, () => {
      expect(oracle[arch].length).toBe(10);
      for (const c of oracle[arch]) {
        const pieces = parseTemplate(c.template);
        const got = encodePrompt(toks[arch], pieces, c.texts, 0, [], {
          maxLength: c.maxLength,
          firstSentLimit: c.first,
          otherSentLimit: c.other,
        });
        expect(got.inputIds, `${c.template} ${JSON.stringify(c.texts)}`).toEqual(c.inputIds);
        expect(got.maskPos).toBe(c.maskPos);
      }
    });
  }
});

describe("template engine details", () => {
  const t = toks.roberta;
  const noLimits = { maxLength: 128, firstSentLimit: null, otherSentLimit: null };

  it("SST-2 worked example: <s> + enc(s) + enc(' It was') + <mask> + '.' + </s>", () => {
    const s = "a charming journey";
    const r = encodePrompt(t, parseTemplate("*cls**sent_0*_It_was*mask*.*sep+*"), [s], 1, [], noLimits);
    expect(r.inputIds).toEqual([t.clsId, ...t.encode(s), ...t.encode(" It was"), t.maskId, t.tokenToId("."), t.sepId]);
    expect(r.maskPos).toBe(1 + t.encode(s).length + 2);
    expect(r.label).toBe(1);
  });

  it("sent-_i drops the last character (not token); label_i inserts the label word id", () => {
    const ids = encodePrompt(t, parseTemplate("*cls**sent-_0**mask**label_1*"), ["great."], 0, [7, 9], noLimits);
    expect(ids.inputIds).toEqual([t.clsId, ...t.encode("great"), t.maskId, 9]);
  });

  it("a single-character literal is a raw vocabulary lookup: a lone space becomes <unk>", () => {
    const ids = encodePrompt(t, parseTemplate("*mask*_"), [], 0, [], noLimits).inputIds;
    expect(ids).toEqual([t.maskId, t.unkId]);
  });

  it("errors: mask truncated away names the example and the options", () => {
    const pieces = parseTemplate("*cls**sent_0*_It_was*mask*.*sep+*");
    expectOptionError(
      () => encodePrompt(t, pieces, [" the the the the"], 0, [], { ...noLimits, maxLength: 4 }, "train.tsv:7"),
      "maxLength",
      /train\.tsv:7: the mask was truncated away.*firstSentLimit \/ otherSentLimit\) or raise maxLength/,
    );
  });

  it("errors: sentence the task does not have, invalid sentence pieces, missing mask", () => {
    expect(() => validateTemplate("*cls**sent_0**mask**+sentl_1*", 1, 2, "SST-2")).toThrow(
      /names sentence 1, but SST-2 has 1 sentence/,
    );
    expect(() => parseTemplate("*cls**+sent-_0**mask*")).toThrow(/\*\+sent-_0\* is not a valid piece/);
    expect(() => parseTemplate("*cls**sent_x**mask*")).toThrow(/needs a sentence\/label index/);
    expect(() => validateTemplate("*cls**sent_0*", 1, 2)).toThrow(/has no \*mask\* piece/);
  });

  it("no-prompt encoding: <s> s0 </s> s1 </s>, no limits, tail truncation, position 0", () => {
    const r = encodeNoPrompt(t, ["first one", "second"], 2, 128);
    expect(r.inputIds).toEqual([t.clsId, ...t.encode("first one"), t.sepId, ...t.encode("second"), t.sepId]);
    expect(r.maskPos).toBe(0);
    expect(encodeNoPrompt(t, ["first one", "second"], 2, 3).inputIds).toEqual(
      [t.clsId, ...t.encode("first one")].slice(0, 3),
    );
  });
});

describe("label words", () => {
  it("resolve to the Ġword ids in label order", () => {
    const t = toks.roberta;
    const ids = resolveLabelWords(t, { not_entailment: "No", entailment: "Yes" }, ["entailment", "not_entailment"]);
    expect(ids).toEqual([t.tokenToId("ĠYes"), t.tokenToId("ĠNo")]);
    const b = toks.bert;
    expect(resolveLabelWords(b, { "0": "terrible", "1": "great" }, ["0", "1"])).toEqual([
      b.tokenToId("terrible"),
      b.tokenToId("great"),
    ]);
  });

  it("a word that is not one token errors and shows its tokenization; special-prefixed words are raw", () => {
    const t = toks.roberta;
    expect(() => resolveLabelWords(t, { "0": "fantastic", "1": "great" }, ["0", "1"])).toThrow(
      /"fantastic" \(label 0\) must be exactly one token.*tokenizes to \d+ tokens: \["Ġf/,
    );
    expect(resolveLabelWords(t, { "0": ".", "1": "<mask>" }, ["0", "1"])).toEqual([t.tokenToId("."), t.maskId]);
    expect(() => resolveLabelWords(t, { "0": "<nope>", "1": "great" }, ["0", "1"])).toThrow(/not in the vocabulary/);
  });
});
