/**
 * Issue 19: `entk kernel`, `entk sweep` and `entk finetune` killed with SIGKILL at seeded random points (each rerun
 * resuming the previous one) end with byte-identical outputs to an uninterrupted run and leave no temp files, stale
 * locks or half-replaced directories behind. Tiny model and data keep each run to about 3 CPU-seconds.
 *
 * The kill points are fractions of the uninterrupted run's CPU time (utime + stime from /proc, Linux), not of its
 * wall time: on a loaded machine a wall-clock schedule drifts (the same point lands in module loading under load and
 * after the end when idle), a CPU-time one kills at the same stage of the work whatever the load. Without /proc the
 * fractions apply to wall time. ENTK_KILLS sets the kills per command (default below; 10 or more for the long run,
 * e.g. `ENTK_KILLS=10 npx vitest run test/e2e/kill.test.ts`).
 */
import { type ChildProcess, spawn } from "node:child_process";
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
/** Interrupted trials per command in the suite (killTrials). Measured for the whole file: 273 CPU-s, 145 s wall at load ~4. */
const DEFAULT_KILLS = 10;
const KILLS = Number(process.env.ENTK_KILLS ?? DEFAULT_KILLS);
if (!Number.isInteger(KILLS) || KILLS < 1) throw new Error(`ENTK_KILLS: expected a positive integer, got ${KILLS}`);
const tmp = mkdtempSync(join(tmpdir(), "entk-kill19-"));
/** CLI processes still running (after a timeout): killed before the temp dir is removed. */
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const c of live) c.kill("SIGKILL");
  if (!process.env.ENTK_KEEP_TMP) rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
});

/** The split the runs share: GLUE-SST-2's layout, made-up sentences. */
function writeSplit(dir: string): void {
  writeSentenceSplit(dir, { train: sentences(8, 7), dev: sentences(6, 8), test: sentences(6, 9) });
}

/** Linux's USER_HZ (the unit of /proc/<pid>/stat times): 100 on every architecture Node supports. */
const USER_HZ = 100;
/** CPU time (user + system, ms) of a live process, or undefined without /proc (or once it has exited). */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall and CPU time (CPU: the last sample, every 20 ms; undefined without /proc). */
  ms: number;
  cpu?: number;
  err: string;
}

/** Run the CLI to completion, or kill it with SIGKILL once it has used `killAt` ms of CPU (of wall time without /proc). */
function runCli(args: string[], killAt?: number): Promise<CliRun> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args, "--quiet"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  let cpu: number | undefined;
  const poll = setInterval(() => {
    const now = child.pid === undefined ? undefined : cpuMs(child.pid);
    if (now !== undefined) cpu = now;
    const used = procAvailable ? cpu : Date.now() - t0;
    if (killAt !== undefined && used !== undefined && used >= killAt) child.kill("SIGKILL");
  }, 20);
  return new Promise((ok) =>
    child.once("close", (code, signal) => {
      live.delete(child);
      clearInterval(poll);
      ok({ code, signal, ms: Date.now() - t0, cpu, err });
    }),
  );
}
const procAvailable = cpuMs(process.pid) !== undefined;

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

/**
 * KILLS trials of one command, each on a fresh output: a SIGKILL at a seeded point — a fraction in [0.35, 0.95) of
 * the reference run's CPU time (the first third is mostly module loading), so a fresh run is always cut short — a
 * second SIGKILL of the resumed run at another seeded point (it may finish first), then a run to completion. A
 * trial whose first kill came after the end is repeated (at most KILLS more), so KILLS runs are really interrupted.
 * `check(out)` compares each trial's final output with the reference.
 */
async function killTrials(
  seed: number,
  argsFor: (out: string) => string[],
  base: string,
  ref: CliRun,
  check: (out: string) => void,
): Promise<{ points: number[][]; interrupted: number }> {
  const r = generator(seed);
  const total = procAvailable ? ref.cpu! : ref.ms;
  const draw = () => Math.round(total * (0.35 + 0.6 * r()));
  const points: number[][] = [];
  let interrupted = 0;
  let firstCut = 0;
  for (let trial = 0; firstCut < KILLS && trial < 2 * KILLS; trial++) {
    const out = `${base}-${trial}`;
    const args = argsFor(out);
    const at = [draw(), draw()];
    points.push(at);
    for (const [i, p] of at.entries()) {
      const run = await runCli(args, p);
      if (run.signal === "SIGKILL") {
        interrupted++;
        if (i === 0) firstCut++;
      } else expect(run.code, run.err).toBe(0);
    }
    const last = await runCli(args);
    expect(last.err).not.toMatch(/Error|error:/);
    expect(last.code).toBe(0);
    check(out);
  }
  expect(firstCut).toBe(KILLS);
  return { points, interrupted };
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
  it(
    `kernel, sweep and finetune each killed ${KILLS} times end byte-identical, with no leftovers`,
    async () => {
      const [kRef, fRef, sRef] = await Promise.all([
        runCli(kernelArgs(join(tmp, "k-ref"), join(tmp, "k-ref-cache"))),
        runCli(ftArgs(join(tmp, "ft-ref"))),
        runCli(["sweep", sweepConfig(join(tmp, "sw-ref"))]),
      ]);
      for (const r of [kRef, fRef, sRef]) expect(r.code, r.err).toBe(0);
      if (procAvailable) for (const r of [kRef, fRef, sRef]) expect(r.cpu).toBeGreaterThan(0);

      const ftRef = ftFiles(join(tmp, "ft-ref"));
      const loops = await Promise.all([
        killTrials(
          1901,
          (out) => kernelArgs(out, `${out}-cache`),
          join(tmp, "k"),
          kRef,
          (out) => {
            expect(statSync(join(out, "meta.json")).isFile()).toBe(true);
            expect(kernelFiles(out)).toEqual(kernelFiles(join(tmp, "k-ref")));
          },
        ),
        killTrials(1902, ftArgs, join(tmp, "ft"), fRef, (out) => expect(ftFiles(out)).toEqual(ftRef)),
        killTrials(
          1903,
          (out) => ["sweep", sweepConfig(out)],
          join(tmp, "sw"),
          sRef,
          (out) => expect(sweepResults(out)).toEqual(sweepResults(join(tmp, "sw-ref"))),
        ),
      ]);
      const left = walk(tmp).filter((p) => LEFTOVER.test(p));
      expect(left).toEqual([]);
      // One line for the log: the schedule (CPU ms, or wall ms without /proc) and how many kills interrupted a run.
      console.log(
        `kill test: ${KILLS} kills per command (${procAvailable ? "CPU" : "wall"} ms): ${JSON.stringify(
          Object.fromEntries(["kernel", "finetune", "sweep"].map((c, i) => [c, loops[i]])),
        )}`,
      );
    },
    300_000 + KILLS * 90_000,
  );
});
