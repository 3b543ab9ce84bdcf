import { readFileSync, statSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/model/load.ts";
import { releaseSessions } from "../../src/model/runtime/session.ts";
import { readSafetensorsHeader } from "../../src/model/weights/safetensors.ts";
import { type Probe, probeLogits } from "../../src/pipelines/probe-logits.ts";
import { taskEncoder } from "../../src/prompts/encode.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { tfParams, tfPromptF } from "./reference-tf.ts";

const DIR = new URL("../../models/entk-mini/", import.meta.url).pathname;

afterAll(releaseSessions);

/** The probes and logits the model card states (its "Probe logits" JSON block). */
function cardProbes(): Probe[] {
  const card = readFileSync(`${DIR}README.md`, "utf8");
  const m = /## Probe logits[\s\S]*?```json\n([\s\S]*?)```/.exec(card);
  if (!m) throw new Error("models/entk-mini/README.md has no probe-logits block");
  return JSON.parse(m[1]) as Probe[];
}

describe("models/entk-mini", () => {
  it("is a RobertaForMaskedLM in float16 storage under 40 MB with an untied decoder", async () => {
    const cfg = JSON.parse(readFileSync(`${DIR}config.json`, "utf8"));
    expect(cfg.architectures).toEqual(["RobertaForMaskedLM"]);
    expect(statSync(`${DIR}model.safetensors`).size).toBeLessThan(40e6);
    const w = await loadModel(DIR);
    expect(w.tensors.has("lm_head.decoder.weight")).toBe(true);
    const h = readSafetensorsHeader(`${DIR}model.safetensors`);
    expect(new Set(h.entries.map((e) => e.dtype))).toEqual(new Set(["F16"]));
    const dec = h.entries.find((e) => e.name === "lm_head.decoder.weight")!;
    expect(dec.shape).toEqual([cfg.vocab_size, cfg.hidden_size]);
  });

  it("gives the label-word logits its model card states (to 1e-5), and tfjs's independent forward agrees", async () => {
    const w = await loadModel(DIR);
    const tok = await loadTokenizer(DIR);
    const stated = cardProbes();
    expect(stated.length).toBeGreaterThanOrEqual(3);
    const got = await probeLogits(w, tok, stated);
    const params = tfParams(w);
    stated.forEach((p, i) => {
      const want = p.logits!;
      got[i].logits!.forEach((z, k) => {
        expect(Math.abs(z - want[k])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[k])));
      });
      const task = loadTask(p.task);
      const enc = taskEncoder(tok, task);
      const e = enc.encode({ texts: p.texts, label: task.labels[0], source: "probe" });
      const ref = Array.from(tfPromptF(w, params, e, enc.labelWordIds, false).dataSync());
      ref.forEach((z, k) => {
        expect(Math.abs(z - want[k])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[k])));
      });
    });
  });
});
