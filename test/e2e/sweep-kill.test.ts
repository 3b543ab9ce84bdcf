import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sweepResults } from "./sweep-results.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(root, "bin/entk.js");

/** A real (tiny) sweep: one task, k = 4, two kernel jobs and one fine-tuning job. */
const config = (out: string) => ({
  name: "kill-test",
  model: join(root, "models/tiny-roberta"),
  data: { dir: join(root, "datasets/original"), mode: "k-shot-1k-test" },
  tasks: ["spam"],
  k: [4],
  seeds: [13],
  limits: { limitEval: 8 },
  out,
  methods: [
    { kind: "kernel", formula: ["sgd", "signgd"], solver: "lstsq", reg: [0, 0.01] },
    { kind: "ft", optimizer: "sgd", lr: 0.001, batchSize: 4, steps: 4, evalEvery: 2 },
  ],
});

describe("a real sweep killed with SIGKILL", () => {
  it("resumes without redoing finished jobs and ends with the uninterrupted sweep's results", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "entk-kill-"));
    const write = (name: string) => {
      const f = join(tmp, `${name}.json`);
      writeFileSync(f, JSON.stringify(config(join(tmp, name))));
      return f;
    };
    const ref = spawnSync(process.execPath, [BIN, "sweep", write("ref"), "--quiet"], { encoding: "utf8", cwd: root });
    expect(ref.status).toBe(0);

    const cfg = write("killed");
    const child = spawn(process.execPath, [BIN, "sweep", cfg, "--quiet"], { cwd: root, stdio: "ignore" });
    const records = join(tmp, "killed", "records");
    const done = () => (existsSync(records) ? readdirSync(records).filter((f) => f.endsWith(".jsonl")).length : 0);
    while (done() < 1 && child.exitCode === null) await sleep(20);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    const finishedBeforeKill = done();
    expect(finishedBeforeKill).toBeGreaterThanOrEqual(1);
    expect(finishedBeforeKill).toBeLessThan(3);

    const resumed = spawnSync(process.execPath, [BIN, "sweep", cfg, "--quiet"], { encoding: "utf8", cwd: root });
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toContain(`${3 - finishedBeforeKill} jobs ran, ${finishedBeforeKill} were already done`);
    expect(readdirSync(records).filter((f) => f.startsWith("."))).toEqual([]);
    const got = sweepResults(join(tmp, "killed"));
    expect(got.length).toBe(6); // 2 kernel jobs × 2 reg values + 1 fine-tuning run and its posthoc-lin record
    expect(got).toEqual(sweepResults(join(tmp, "ref")));
  }, 90_000);
});
