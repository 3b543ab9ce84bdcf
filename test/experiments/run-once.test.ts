import { describe, expect, it } from "vitest";
import { validateSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";
import { runConfig, withFtDefaults } from "../../src/experiments/run-once.ts";

const base = { task: "RTE", k: 16, seed: 13, model: "m", dataDir: "d", out: "o" };

describe("entk run as a one-off sweep", () => {
  it("its jobs have the content keys of the equivalent sweep config's jobs", () => {
    const run = runConfig({
      ...base,
      limitEval: 50,
      methods: ["kernel:sgd:lstsq", "kernel:asymmetric_signgd:asym:binary=true:reg=0.01", "ft:adam:lr=1e-5"],
    });
    const sweep = validateSweepConfig({
      model: "m",
      data: { dir: "d", mode: "k-shot-1k-test" },
      tasks: ["RTE"],
      k: [16],
      seeds: [13],
      limits: { limitEval: 50 },
      out: "elsewhere",
      methods: [
        { kind: "kernel", formula: "sgd", solver: "lstsq" },
        { kind: "kernel", formula: "asymmetric_signgd", solver: "asym", binary: true, reg: [0.01] },
        { kind: "ft", optimizer: "adam", lr: [1e-5], batchSize: [8], steps: [1000] },
      ],
    });
    const keys = (c: Parameters<typeof expandJobs>[0]) => expandJobs(c).map((j) => `${j.method} ${j.key}`);
    expect(keys(run)).toEqual(keys(sweep));
    expect(keys(run).length).toBe(3);
  });

  it("fills in the fine-tuning defaults only where the spec leaves them out", () => {
    expect(withFtDefaults("ft:sgd:lr=1e-4")).toBe("ft:sgd:lr=1e-4:batchSize=8:steps=1000");
    expect(withFtDefaults("ft:sgd:bs=4:steps=10")).toBe("ft:sgd:bs=4:steps=10:lr=0.00005");
    expect(withFtDefaults("kernel:sgd:lstsq")).toBe("kernel:sgd:lstsq");
    expect(() => runConfig({ ...base, methods: ["ft:momentum:lr=1"] })).toThrow(/optimizer: expected one of/);
    expect(() => runConfig({ ...base, methods: [] })).toThrow(/at least one method/);
  });
});
