import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listTasks, loadTask, overrideTask, PAPER_TASKS, parseMapping } from "../../src/prompts/task.ts";
import { resolveLabelWords, validateTemplate } from "../../src/prompts/template.ts";
import { buildTokenizerFiles, tokenizerFromJson } from "../../src/tokenizer/index.ts";
import { expectOptionError } from "../helpers/option-error.ts";

describe("bundled task definitions", () => {
  it("cover the 14 paper tasks plus GLUE-SST-2 and CoLA, all valid", () => {
    const names = listTasks();
    for (const t of [...PAPER_TASKS, "GLUE-SST-2", "CoLA"]) expect(names).toContain(t);
    for (const n of names) {
      const t = loadTask(n);
      expect(t.name).toBe(n);
      validateTemplate(t.template, t.data.textColumns.length, t.labels.length, t.name);
    }
  });

  it("label order follows the processors, not the mapping (docs/protocol.md §1.1)", () => {
    expect(loadTask("qnli").labels).toEqual(["entailment", "not_entailment"]);
    expect(loadTask("RTE").mapping).toEqual({ not_entailment: "No", entailment: "Yes" });
    expect(loadTask("mnli").labels).toEqual(["contradiction", "entailment", "neutral"]);
    expect(loadTask("AG_NEWS").labels).toEqual(["1", "2", "3", "4"]);
    expect(loadTask("trec").labels).toEqual(["0", "1", "2", "3", "4", "5"]);
  });

  it("metrics, lengths, limits and columns", () => {
    expect(loadTask("MRPC").metric).toBe("f1");
    expect(loadTask("qqp").metric).toBe("f1");
    expect(loadTask("sst-2").metric).toBe("acc");
    const ag = loadTask("ag_news");
    expect([ag.maxLength, ag.firstSentLimit, ag.otherSentLimit]).toEqual([256, 240, null]);
    expect(ag.data.textColumns).toEqual([2]);
    const mr = loadTask("MR");
    expect([mr.maxLength, mr.firstSentLimit, mr.otherSentLimit]).toEqual([128, 110, 50]);
    expect(loadTask("MNLI").data.textColumns).toEqual([8, 9]);
    expect(loadTask("SNLI").data.textColumns).toEqual([7, 8]);
    expect(loadTask("MRPC").data.labelColumn).toBe(0);
    expect(loadTask("QQP").data.labelColumn).toBe(5);
    expect(loadTask("glue-sst-2").data.dir).toBe("GLUE-SST-2");
    expect(loadTask("SST-2").data.dir).toBe("SST-2");
  });

  it("every label word is one token with its leading space in the synthetic tokenizers", () => {
    for (const arch of ["roberta", "bert"] as const) {
      const f = buildTokenizerFiles(arch);
      const tok = tokenizerFromJson(JSON.parse(f["tokenizer.json"]), JSON.parse(f["tokenizer_config.json"]));
      for (const n of listTasks()) {
        const t = loadTask(n);
        expect(resolveLabelWords(tok, t.mapping, t.labels).every((id) => id !== tok.unkId)).toBe(true);
      }
    }
  });
});

describe("task loading errors and overrides", () => {
  const dir = mkdtempSync(join(tmpdir(), "entk-task-"));
  const base = JSON.parse(JSON.stringify(loadTask("SST-2")));

  it("unknown names list the tasks", () => {
    expect(() => loadTask("sst3")).toThrow(/unknown task "sst3"; known tasks: .*SST-2/);
  });

  it("a user task file is validated with clear messages", () => {
    const write = (name: string, v: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, typeof v === "string" ? v : JSON.stringify(v));
      return p;
    };
    expect(loadTask(write("ok.json", { ...base, name: "mine" })).name).toBe("mine");
    expect(() => loadTask(write("a.json", { ...base, metric: "auc" }))).toThrow(
      /a\.json: "metric" must be "acc" or "f1"/,
    );
    expect(() => loadTask(write("b.json", { ...base, mapping: { "0": "terrible" } }))).toThrow(
      /b\.json: "mapping" has no word for label "1"/,
    );
    expect(() => loadTask(write("c.json", { ...base, maxLen: 3 }))).toThrow(/c\.json: unknown field "maxLen"/);
    expect(() => loadTask(write("d.json", { ...base, data: { ...base.data, format: "xlsx" } }))).toThrow(
      /d\.json: "data.format" must be "tsv" or "csv"/,
    );
    expect(() => loadTask(write("e.json", "{"))).toThrow(/e\.json: invalid JSON/);
    expect(() => loadTask(join(dir, "missing.json"))).toThrow(/missing\.json not found/);
  });

  it("--mapping accepts LM-BFF's Python dict syntax and JSON; overrides are re-validated", () => {
    expect(parseMapping("{'0':'terrible','1':'great'}")).toEqual({ "0": "terrible", "1": "great" });
    expect(parseMapping('{"contradiction": "No", "entailment":"Yes"}')).toEqual({
      contradiction: "No",
      entailment: "Yes",
    });
    expect(parseMapping("{0:'bad', 1:'good'}")).toEqual({ "0": "bad", "1": "good" });
    expectOptionError(() => parseMapping("0:bad"), "mapping", /^mapping: expected \{label: word/);
    const t = overrideTask(loadTask("SST-2"), {
      template: "*cls**sent_0*_So*mask*.*sep+*",
      mapping: { "0": "bad", "1": "good" },
    });
    expect(t.mapping["1"]).toBe("good");
    expect(() => overrideTask(loadTask("SST-2"), { mapping: { "0": "bad" } })).toThrow(/no word for label "1"/);
  });
});
