/**
 * Issue 19: `entk kernel`, `entk sweep` and `entk finetune` killed with SIGKILL at seeded random points (10 times
 * each, each rerun resuming the previous one) end with byte-identical outputs to an uninterrupted run and leave no
 * temp files, stale locks or half-replaced directories behind. Tiny model and data keep each run to seconds.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { generator, sentences, writeSentenceSplit } from "../helpers/synthetic-data.ts";
import { sweepResults } from "./sweep-results.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(root, "bin/entk.js");
const MODEL = join(root, "models/tiny-roberta");
/** 10 kills per command (ENTK_KILLS overrides it for a quick local check on a loaded machine). */
const KILLS = Number(process.env.ENTK_KILLS ?? 10);
const tmp = mkdtempSync(join(tmpdir(), "entk-kill19-"));
afterAll(() => {
  if (!process.env.ENTK_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
});

/** The split the runs share: GLUE-SST-2's layout, made-up sentences. */
function writeSplit(dir: string): void {
  writeSentenceSplit(dir, { train: sentences(8, 7), dev: sentences(6, 8), test: sentences(6, 9) });
}

/** Run the CLI to completion (rc) or kill it with SIGKILL after `killAfterMs`. */
function runCli(args: string[], killAfterMs?: number): Promise<{ code: number | null; ms: number; err: string }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args, "--quiet"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  return new Promise((ok) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      ok({ code, ms: Date.now() - t0, err });
    }),
  );
}

/** Every file below `dir` (relative paths), for the leftover check. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(`${relative(tmp, p)}/`, ...walk(p));
    else out.push(relative(tmp, p));
  }
  return out;
}
const LEFTOVER = /(\.entk-[0-9a-f]{6}-\d+-[0-9a-f]{8}\.(tmp|old)\/?$)|(\.lock$)|(\.tmp\/?$)|(\.old\/?$)/;

/** Kill `args` KILLS times at seeded random points within the reference run's duration, then let it finish. */
async function killLoop(seed: number, args: string[], refMs: number): Promise<number[]> {
  const r = generator(seed);
  const points: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const at = Math.round(refMs * (0.2 + 0.9 * r()));
    points.push(at);
    await runCli(args, at);
  }
  const last = await runCli(args);
  expect(last.err).not.toMatch(/Error|error:/);
  expect(last.code).toBe(0);
  return points;
}

const split = join(tmp, "split");
writeSplit(split);

const kernelArgs = (out: string, cache: string) => [
  "kernel",
  ...["--model", MODEL, "--task", "GLUE-SST-2", "--split-dir", split, "--formulas", "sgd,signgd"],
  ...["--out", out, "--cache-dir", cache],
];
const ftArgs = (out: string) => [
  "finetune",
  ...["--model", MODEL, "--task", "GLUE-SST-2", "--split-dir", split, "--optimizer", "adam", "--lr", "1e-3"],
  ...["--batch-size", "4", "--steps", "12", "--eval-every", "4", "--snapshot-every", "1", "--out", out],
];
function sweepConfig(out: string): string {
  const file = `${out}.json`;
  const config = {
    name: "kill19",
    model: MODEL,
    data: { dir: join(tmp, "data"), mode: "k-shot" },
    tasks: ["GLUE-SST-2"],
    k: [4],
    seeds: [13],
    out,
    methods: [
      { kind: "kernel", formula: ["sgd"], solver: "lstsq", reg: [0, 0.01] },
      { kind: "ft", optimizer: "sgd", lr: 0.001, batchSize: 4, steps: 4, evalEvery: 2 },
    ],
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}
// The sweep's split directory, as `entk data split` lays it out (used as is).
mkdirSync(join(tmp, "data", "k-shot", "GLUE-SST-2"), { recursive: true });
writeSplit(join(tmp, "data", "k-shot", "GLUE-SST-2", "4-13"));

const bytes = (p: string) => readFileSync(p);
function kernelFiles(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of readdirSync(dir).sort()) {
    if (f === "meta.json") {
      const { timings, cache, ...meta } = JSON.parse(readFileSync(join(dir, f), "utf8"));
      out[f] = meta;
    } else out[f] = bytes(join(dir, f)).toString("base64");
  }
  return out;
}
function ftFiles(dir: string): Record<string, unknown> {
  const result = readFileSync(join(dir, "result.json"), "utf8").replaceAll(dir, "OUT");
  return {
    curve: readFileSync(join(dir, "curve.jsonl"), "utf8"),
    result,
    best: bytes(join(dir, "best", "model.safetensors")).toString("base64"),
    files: readdirSync(dir).sort(),
  };
}
describe("SIGKILL at random points (seeded)", () => {
  it(`kernel, sweep and finetune each killed ${KILLS} times end byte-identical, with no leftovers`, async () => {
    const [kRef, fRef, sRef] = await Promise.all([
      runCli(kernelArgs(join(tmp, "k-ref"), join(tmp, "k-ref-cache"))),
      runCli(ftArgs(join(tmp, "ft-ref"))),
      runCli(["sweep", sweepConfig(join(tmp, "sw-ref"))]),
    ]);
    for (const r of [kRef, fRef, sRef]) expect(r.code, r.err).toBe(0);

    await Promise.all([
      killLoop(1901, kernelArgs(join(tmp, "k"), join(tmp, "k-cache")), kRef.ms),
      killLoop(1902, ftArgs(join(tmp, "ft")), fRef.ms),
      killLoop(1903, ["sweep", sweepConfig(join(tmp, "sw"))], sRef.ms),
    ]);

    expect(kernelFiles(join(tmp, "k"))).toEqual(kernelFiles(join(tmp, "k-ref")));
    const ft = ftFiles(join(tmp, "ft"));
    const ftRef = ftFiles(join(tmp, "ft-ref"));
    expect(ft).toEqual(ftRef);
    expect(sweepResults(join(tmp, "sw"))).toEqual(sweepResults(join(tmp, "sw-ref")));
    const left = walk(tmp).filter((p) => LEFTOVER.test(p));
    expect(left).toEqual([]);
    expect(statSync(join(tmp, "k", "meta.json")).isFile()).toBe(true);
  }, 900_000);
});
