import { describe, expect, it } from "vitest";
import { methodSpecWithVariant } from "../../src/cli/variant-flags.ts";
import { parseMethodSpec, validateSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";
import { variantOfHyper } from "../../src/experiments/variant-hyper.ts";
import { methodInfo, variantSuffix } from "../../src/report/methods.ts";

const base = {
  model: "models/tiny-roberta",
  data: "datasets/original",
  tasks: ["mpqa"],
  k: [16],
  seeds: [13],
  out: "runs/x",
};

describe("zero-shot, probe and model-variant methods", () => {
  it("parse as method specs and sweep entries; variant keys are validated", () => {
    expect(parseMethodSpec("zero-shot")).toEqual({ kind: "zero-shot" });
    expect(parseMethodSpec("probe")).toEqual({ kind: "probe", options: {} });
    expect(parseMethodSpec("probe:noPrompt=true")).toEqual({ kind: "probe", options: { noPrompt: true } });
    expect(parseMethodSpec("kernel:sgd:lstsq:noPrompt=true:loraR=8:loraAlpha=16")).toMatchObject({
      options: { noPrompt: true, loraR: 8, loraAlpha: 16 },
    });
    expect(parseMethodSpec("ft:adam:lr=1e-3:bs=8:steps=5:loraR=4:loraTargets=value")).toMatchObject({
      options: { loraR: 4, loraTargets: "value" },
    });
    expect(() => parseMethodSpec("kernel:sgd:lstsq:loraAlpha=16")).toThrow(/loraAlpha: needs loraR/);
    expect(() => parseMethodSpec("kernel:sgd:lstsq:loraR=0")).toThrow(/loraR: expected an integer >= 1/);
    expect(() => parseMethodSpec("ft:adam:lr=1:bs=1:steps=1:loraR=2:loraTargets=key")).toThrow(
      /loraTargets: expected a comma list of query, value/,
    );
    expect(() => parseMethodSpec("zero-shot:noPrompt=true")).toThrow(/noPrompt: unknown key/);
  });

  it("variants are their own jobs; prompt-MLM jobs keep their content keys (no variant keys added)", () => {
    const plain = expandJobs(
      validateSweepConfig({ ...base, methods: [{ kind: "kernel", formula: "sgd", solver: "lstsq" }] }),
    );
    const both = expandJobs(
      validateSweepConfig({
        ...base,
        methods: [
          { kind: "kernel", formula: "sgd", solver: "lstsq" },
          { kind: "kernel", formula: "sgd", solver: "lstsq", noPrompt: true },
          { kind: "zero-shot" },
          { kind: "probe", noPrompt: true },
        ],
      }),
    );
    expect(both.length).toBe(4);
    expect(both[0].key).toBe(plain[0].key);
    expect(plain[0].hyperparameters).not.toHaveProperty("noPrompt");
    expect(both.map((j) => j.method)).toEqual(["kernel:sgd:lstsq", "kernel:sgd:lstsq", "zero-shot", "probe"]);
    expect(both[1].hyperparameters.noPrompt).toBe(true);
    expect(variantOfHyper(both[1].hyperparameters)).toEqual({ noPrompt: true });
    expect(variantOfHyper({ loraR: 8 })).toEqual({ lora: { r: 8, alpha: 8, targets: ["query", "value"] } });
  });

  it("report rows: one per variant with no paper value; zero-shot and probe rows", () => {
    expect(variantSuffix({})).toBe("");
    expect(variantSuffix({ noPrompt: true, loraR: 8 })).toBe("#no-prompt,lora-r8");
    const v = methodInfo("kernel:sgd:lstsq#no-prompt,lora-r8");
    expect(v.label).toBe("K^(SGD) lstsq [no prompt, LoRA r=8]");
    expect(v.paper).toBeUndefined();
    expect(methodInfo("kernel:sgd:lstsq").paper).toBe("K^(SGD)");
    expect(methodInfo("ft:adam#lora-r4").label).toBe("Adam-FT [LoRA r=4]");
    expect(methodInfo("zero-shot")).toMatchObject({ label: "Zero-shot" });
    expect(methodInfo("probe#no-prompt")).toMatchObject({ label: "Linear probe [no prompt]" });
    expect(methodInfo("probe").paper).toBeUndefined();
  });

  it("entk run --no-prompt / --lora-r add the variant keys to kernel, ft (and probe) specs", () => {
    const v = { noPrompt: true as const, lora: { r: 8, alpha: 16, targets: ["query" as const, "value" as const] } };
    expect(methodSpecWithVariant("kernel:sgd:lstsq", v)).toBe(
      "kernel:sgd:lstsq:noPrompt=true:loraR=8:loraAlpha=16:loraTargets=query,value",
    );
    expect(parseMethodSpec(methodSpecWithVariant("ft:adam:lr=1e-3:bs=8:steps=5", v))).toMatchObject({
      options: { noPrompt: true, loraR: 8, loraAlpha: 16, loraTargets: "query,value" },
    });
    expect(methodSpecWithVariant("probe", v)).toBe("probe:noPrompt=true");
    expect(methodSpecWithVariant("zero-shot", v)).toBe("zero-shot");
    expect(methodSpecWithVariant("kernel:sgd:lstsq", {})).toBe("kernel:sgd:lstsq");
  });
});
