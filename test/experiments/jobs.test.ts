import { describe, expect, it } from "vitest";
import { parseSweepConfig, validateSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs, gridPoints } from "../../src/experiments/jobs.ts";
import { parseShard, selectShard } from "../../src/experiments/shard.ts";
import { canonicalJson } from "../../src/util/canonical.ts";
import { expectOptionError } from "../helpers/option-error.ts";

const cfg = (over: Record<string, unknown> = {}) =>
  validateSweepConfig({
    model: "roberta-base",
    data: "data/original",
    tasks: ["SST-2", "MRPC", "trec"],
    k: [16, 64],
    seeds: [13, 21, 42],
    out: "runs/x",
    methods: [
      { kind: "kernel", formula: ["sgd", "asymmetric_signgd"], solver: ["lstsq", "asym"], reg: [0, 0.01], gamma: [1] },
      { kind: "ft", optimizer: ["sgd", "adam"], lr: [1e-4, 1e-5], batchSize: [2, 8], steps: 100 },
    ],
    ...over,
  });

describe("job expansion", () => {
  it("makes one job per task × k × seed × (formula × solver | optimizer × lr × bs × steps)", () => {
    const jobs = expandJobs(cfg());
    expect(jobs.length).toBe(3 * 2 * 3 * (2 * 2 + 2 * 2 * 2));
    expect(new Set(jobs.map((j) => j.key)).size).toBe(jobs.length);
    const j = jobs[0];
    expect([j.task, j.k, j.seed, j.method]).toEqual(["SST-2", 16, 13, "kernel:sgd:lstsq"]);
    expect(j.grid).toEqual({ reg: [0, 0.01] });
    // gamma is swept only by the asym solver
    expect(jobs[1].method).toBe("kernel:sgd:asym");
    expect(jobs[1].grid).toEqual({ reg: [0, 0.01], gamma: [1] });
    const ft = jobs.find((x) => x.method === "ft:adam");
    expect(ft?.hyperparameters).toMatchObject({ lr: 1e-4, batchSize: 2, steps: 100, evalEvery: 100 });
  });

  it("groups jobs by (task, model) for test-set sharing, then by (k, seed) unit", () => {
    const jobs = expandJobs(cfg());
    const groups = jobs.map((j) => j.group);
    // each group is one contiguous run
    const runs = groups.filter((g, i) => i === 0 || g !== groups[i - 1]);
    expect(runs).toEqual(["SST-2|roberta-base", "MRPC|roberta-base", "trec|roberta-base"]);
    const units = jobs.map((j) => j.unit).filter((u, i, a) => i === 0 || u !== a[i - 1]);
    expect(units.length).toBe(3 * 2 * 3);
    expect(new Set(units).size).toBe(units.length);
  });

  it("content keys are stable: a pinned value, independent of formatting, order and out dir", () => {
    const c = cfg({
      tasks: ["SST-2"],
      k: [16],
      seeds: [13],
      methods: [{ kind: "kernel", formula: "sgd", solver: "lstsq", reg: [0, 0.01] }],
    });
    // Pinned: sha256 of Python's json.dumps(spec, sort_keys=True, separators=(",", ":")), first 16 hex digits.
    expect(expandJobs(c)[0].key).toBe("54dd3d1eaaeb764f");
    const yaml = parseSweepConfig(
      "out: elsewhere\nmethods: [{reg: [0.0, 1.0e-2], solver: lstsq, formula: sgd, kind: kernel}]\nseeds: 13\nk: 16\ntasks: SST-2\ndata: data/original\nmodel: {id: roberta-base}\n",
    );
    expect(expandJobs(yaml)[0].key).toBe("54dd3d1eaaeb764f");
    const other = cfg({
      tasks: ["SST-2"],
      k: [16],
      seeds: [13],
      methods: [{ kind: "kernel", formula: "sgd", solver: "lstsq", reg: [0, 0.1] }],
    });
    expect(expandJobs(other)[0].key).not.toBe("54dd3d1eaaeb764f");
    const limited = cfg({
      tasks: ["SST-2"],
      k: [16],
      seeds: [13],
      limits: { limitEval: 10 },
      methods: c.methods.map(() => ({ kind: "kernel", formula: "sgd", solver: "lstsq", reg: [0, 0.01] })),
    });
    expect(expandJobs(limited)[0].key).not.toBe("54dd3d1eaaeb764f");
  });

  it("canonical JSON sorts keys and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: [1e-4, { d: undefined, c: true }] })).toBe('{"a":[0.0001,{"c":true}],"b":1}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite/);
  });

  it("a method restricted to some tasks only expands for those (case-insensitive)", () => {
    const jobs = expandJobs(
      cfg({
        methods: [
          { kind: "kernel", formula: "sgd", solver: "lstsq" },
          { kind: "kernel", formula: "asymmetric_signgd", solver: "asym", binary: true, tasks: ["sst-2", "MRPC"] },
        ],
      }),
    );
    const asym = jobs.filter((j) => j.method === "kernel:asymmetric_signgd:asym");
    expect(new Set(asym.map((j) => j.task))).toEqual(new Set(["SST-2", "MRPC"]));
    expect(asym.length).toBe(2 * 2 * 3);
    expect(jobs.length).toBe(3 * 2 * 3 + 2 * 2 * 3);
  });

  it("collapses duplicate method entries into one job", () => {
    const m = { kind: "kernel", formula: "sgd", solver: "lstsq" };
    expect(expandJobs(cfg({ methods: [m, m] })).length).toBe(3 * 2 * 3);
  });

  it("enumerates grid points with the last key fastest", () => {
    expect(gridPoints({ reg: [0, 1], gamma: [2, 3] })).toEqual([
      { reg: 0, gamma: 2 },
      { reg: 0, gamma: 3 },
      { reg: 1, gamma: 2 },
      { reg: 1, gamma: 3 },
    ]);
    expect(gridPoints({})).toEqual([{}]);
  });
});

describe("sharding", () => {
  it("every job runs in exactly one of n shards, units stay whole, shards are balanced", () => {
    const jobs = expandJobs(cfg());
    for (const n of [1, 2, 3, 4, 7, 18, 25]) {
      const shards = Array.from({ length: n }, (_, i) => selectShard(jobs, { index: i + 1, count: n }));
      const all = shards.flat().map((j) => j.key);
      expect(all.length).toBe(jobs.length);
      expect(new Set(all)).toEqual(new Set(jobs.map((j) => j.key)));
      const unitShard = new Map<string, number>();
      for (const [i, s] of shards.entries())
        for (const j of s) {
          expect(unitShard.get(j.unit) ?? i).toBe(i);
          unitShard.set(j.unit, i);
        }
      const unitsPer = shards.map((s) => new Set(s.map((j) => j.unit)).size);
      expect(Math.max(...unitsPer) - Math.min(...unitsPer)).toBeLessThanOrEqual(1);
      // deterministic
      expect(selectShard(jobs, { index: 1, count: n }).map((j) => j.key)).toEqual(shards[0].map((j) => j.key));
    }
  });

  it("parses i/n and rejects bad shards", () => {
    expect(parseShard("2/8")).toEqual({ index: 2, count: 8 });
    for (const bad of ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3"])
      expectOptionError(() => parseShard(bad), "shard", /^shard: expected/);
  });
});
