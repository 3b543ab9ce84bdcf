import { describe, expect, it } from "vitest";
import {
  ConfigError,
  configHash,
  parseMethodSpec,
  parseSweepConfig,
  validateSweepConfig,
} from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";

const base = {
  name: "t",
  model: "roberta-base",
  data: "data/original",
  tasks: ["SST-2", "MRPC"],
  k: [16],
  seeds: [13, 21],
  out: "runs/t",
  methods: [{ kind: "kernel", formula: ["sgd", "signgd"], solver: "lstsq", reg: [0, 1e-4] }],
};

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("sweep config", () => {
  it("parses YAML and JSON to the same normalized config, with defaults filled in", () => {
    const yaml = `
name: t
model: roberta-base
data: data/original
tasks: [SST-2, MRPC]
k: 16
seeds: [13, 21]
out: runs/t
methods:
  - kind: kernel
    formula: [sgd, signgd]
    solver: lstsq
    reg: [0, 0.0001]
`;
    const a = parseSweepConfig(yaml, "a.yaml");
    const b = parseSweepConfig(JSON.stringify(base), "b.json");
    expect(a).toEqual(b);
    expect(a.k).toEqual([16]);
    expect(a.data).toEqual({ dir: "data/original", mode: "k-shot-1k-test" });
    expect(a.model).toEqual({ id: "roberta-base" });
    const m = a.methods[0];
    expect(m.kind === "kernel" && m.options.binary).toBe(false);
    expect(m.kind === "kernel" && m.grid.reg).toEqual([0, 1e-4]);
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash({ ...a, out: "elsewhere", description: "notes" })).toBe(configHash(a));
    expect(configHash({ ...a, seeds: [13] })).not.toBe(configHash(a));
    // Where the jobs run is not what they compute.
    expect(configHash({ ...a, memory: 2 ** 33, device: "cuda", cacheFactors: true })).toBe(configHash(a));
  });

  it("names the bad key path and the YAML line, and says what was expected", () => {
    const yaml = [
      "model: m",
      "data: d",
      "tasks: [SST-2]",
      "k: [16]",
      "seeds: [13]",
      "out: o",
      "methods:",
      "  - kind: ft",
      "    optimizer: adam",
      "    lr: [1e-5, fast]",
      "    batchSize: [8]",
      "    steps: [100]",
    ].join("\n");
    const e = errorOf(() => parseSweepConfig(yaml, "c.yaml"));
    expect(e.path).toBe("methods[0].lr[1]");
    expect(e.line).toBe(10);
    expect(e.message).toBe('c.yaml:10: methods[0].lr[1]: expected a number > 0, got "fast"');
  });

  it.each([
    [{ ...base, extra: 1 }, "extra", "unknown key"],
    [{ ...base, tasks: [] }, "tasks", "non-empty list"],
    [{ ...base, tasks: ["SST-2", "sst-2"] }, "tasks[1]", "duplicate task"],
    [{ ...base, k: [16, 16] }, "k[1]", "duplicate value"],
    [{ ...base, seeds: [1.5] }, "seeds[0]", "an integer"],
    [{ ...base, out: undefined }, "out", "non-empty string"],
    [{ ...base, limits: { limitEval: 0 } }, "limits.limitEval", "an integer >= 1"],
    [{ ...base, data: { dir: "d", mode: "5-shot" } }, "data.mode", '"k-shot-1k-test"'],
    [{ ...base, methods: [] }, "methods", "non-empty list"],
    [{ ...base, memory: "lots" }, "memory", 'a size like "8GB"'],
    [{ ...base, memory: 0 }, "memory", "an integer >= 1"],
    [{ ...base, device: "tpu" }, "device", '"cpu", "cuda"'],
    [{ ...base, cacheFactors: "yes" }, "cacheFactors", "expected true or false"],
    [
      { ...base, methods: [{ kind: "ft", optimizer: "sgd", lr: 1, batchSize: 1, steps: 1, tasks: ["QQP"] }] },
      "methods[0].tasks[0]",
      "not in the top-level tasks",
    ],
    [
      { ...base, methods: [{ kind: "svm" }] },
      "methods[0].kind",
      '"kernel", "ft", "ft-lin", "zero-shot", "probe", got "svm"',
    ],
    [{ ...base, methods: [{ kind: "kernel", formula: "ntk", solver: "lstsq" }] }, "methods[0].formula", '"signgd"'],
    [{ ...base, methods: [{ kind: "kernel", formula: "sgd" }] }, "methods[0].solver", "is required"],
    [
      { ...base, methods: [{ kind: "kernel", formula: "sgd", solver: "lstsq", reg: [-1] }] },
      "methods[0].reg[0]",
      ">= 0",
    ],
    [
      { ...base, methods: [{ kind: "kernel", formula: "sgd", solver: "lstsq", gamma: [1] }] },
      "methods[0].gamma",
      '"asym" solver',
    ],
    [
      { ...base, methods: [{ kind: "kernel", formula: "sgd", solver: "logistic", adjustForInit: true }] },
      "methods[0].adjustForInit",
      '"logistic" solver cannot',
    ],
    [
      { ...base, methods: [{ kind: "ft", optimizer: "sgd", lr: [1], batchSize: [0], steps: [1] }] },
      "methods[0].batchSize[0]",
      ">= 1",
    ],
    [
      { ...base, methods: [{ kind: "ft", optimizer: "sgd", lr: [1], batchSize: [1], steps: [1], momentum: 0.9 }] },
      "methods[0].momentum",
      "unknown key",
    ],
  ])("rejects %#: %s", (raw, path, text) => {
    const e = errorOf(() => validateSweepConfig(raw, "x.json"));
    expect(e.path).toBe(path);
    expect(e.message).toContain(text);
    expect(e.message.startsWith(`x.json: ${path}: `)).toBe(true);
  });

  it("takes the memory budget as a size or bytes, and the device", () => {
    expect(validateSweepConfig({ ...base, memory: "8GB", device: "cuda" })).toMatchObject({
      memory: 8 * 2 ** 30,
      device: "cuda",
    });
    expect(validateSweepConfig({ ...base, memory: 123456 }).memory).toBe(123456);
    expect(validateSweepConfig(base)).not.toHaveProperty("memory");
    expect(validateSweepConfig({ ...base, cacheFactors: true }).cacheFactors).toBe(true);
  });

  it("reports YAML syntax errors and duplicate keys with a line", () => {
    const e = errorOf(() => parseSweepConfig("model: a\nmodel: b\n", "d.yaml"));
    expect(e.message).toMatch(/^d\.yaml:2: cannot parse/);
  });

  it("rejects a bad evalEvery with both accepted forms named", () => {
    const m = { kind: "ft", optimizer: "sgd", lr: 1, batchSize: 1, steps: 1, evalEvery: "end" };
    expect(errorOf(() => validateSweepConfig({ ...base, methods: [m] })).message).toContain(
      'methods[0].evalEvery: expected an integer >= 1 or "epoch", got "end"',
    );
  });
});

describe("method specs (entk run --methods)", () => {
  it("parse to the same method, hence the same job keys, as the config entry", () => {
    const cfg = validateSweepConfig({
      ...base,
      methods: [
        { kind: "kernel", formula: "sgd", solver: "lstsq", reg: 0.01 },
        { kind: "ft", optimizer: "adam", lr: 1e-5, batchSize: 8, steps: 1000, evalEvery: "epoch" },
      ],
    });
    const specs = ["kernel:sgd:lstsq:reg=0.01", "ft:adam:lr=1e-5:bs=8:steps=1000:evalEvery=epoch"];
    const fromSpecs = { ...cfg, methods: specs.map(parseMethodSpec) };
    expect(expandJobs(fromSpecs).map((j) => j.key)).toEqual(expandJobs(cfg).map((j) => j.key));
    expect(parseMethodSpec("kernel:asymmetric_signgd:asym:binary=true")).toMatchObject({
      formulas: ["asymmetric_signgd"],
      options: { binary: true },
    });
  });

  it("bad specs name the spec, the key and what was expected", () => {
    expect(() => parseMethodSpec("ft:sgd:lr=fast:bs=8:steps=1")).toThrow(
      'method "ft:sgd:lr=fast:bs=8:steps=1": lr: expected a number > 0, got "fast"',
    );
    expect(() => parseMethodSpec("ft:sgd:8")).toThrow(/expected key=value after the optimizer, got "8"/);
    expect(() => parseMethodSpec("kernel:sgd:lstsq:momentum=1")).toThrow(/momentum: unknown key/);
    expect(() => parseMethodSpec("svm:rbf")).toThrow(
      /kind: expected one of "kernel", "ft", "ft-lin", "zero-shot", "probe", got "svm"/,
    );
  });
});
