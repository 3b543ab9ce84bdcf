import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ResultRecord } from "../../src/experiments/records.ts";
import { readResults, readResultsFile, recordId } from "../../src/experiments/store.ts";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
/** The CLI runs the test-only `sleep` method (test/helpers/sleep-method.mjs), registered through the environment. */
const env = {
  ...process.env,
  ENTK_METHOD_MODULES: fileURLToPath(new URL("../helpers/sleep-method.mjs", import.meta.url)),
};

/** Records without the fields that legitimately differ between runs (timing, machine), sorted. */
const comparable = (rs: ResultRecord[]) =>
  rs
    .map(({ wallTimeS: _w, finishedAt: _f, machine: _m, ...r }) => r)
    .sort((a, b) => (recordId(a as ResultRecord) < recordId(b as ResultRecord) ? -1 : 1));

describe("entk sweep processes: SIGKILL, SIGINT, concurrent shards", () => {
  it("a killed sweep leaves only complete records and the resumed sweep ends with the same results", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-kill-"));
    const cfg = join(dir, "sweep.yaml");
    writeFileSync(
      cfg,
      [
        "name: kill-test",
        "model: none",
        "data: none",
        "tasks: [SST-2, MRPC]",
        "k: [16]",
        "seeds: [13, 21, 42, 87]",
        `out: ${join(dir, "killed")}`,
        "methods:",
        "  - {kind: sleep, ms: 250, variants: 2}",
      ].join("\n"),
    );
    const killedOut = join(dir, "killed");
    const child = spawn(process.execPath, [BIN, "sweep", cfg, "--concurrency", "2", "--quiet"], {
      stdio: "ignore",
      env,
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
    // Wait until some (not all) jobs are done, then kill -9 mid-sweep.
    const deadline = Date.now() + 60_000;
    const recordFiles = () => (existsSync(join(killedOut, "records")) ? readdirSync(join(killedOut, "records")) : []);
    while (recordFiles().filter((f) => !f.startsWith(".")).length < 2) {
      if (Date.now() > deadline) throw new Error("the sweep never wrote a record");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const afterKill = recordFiles().filter((f) => !f.startsWith("."));
    expect(afterKill.length).toBeGreaterThanOrEqual(2);
    expect(afterKill.length).toBeLessThan(8);
    for (const f of afterKill) expect(readResultsFile(join(killedOut, "records", f)).length).toBe(2); // complete files only
    expect(existsSync(join(killedOut, "results.jsonl"))).toBe(false);
    const mtimes = afterKill.map((f) => statSync(join(killedOut, "records", f)).mtimeMs);

    const resumed = spawnSync(process.execPath, [BIN, "sweep", cfg, "--quiet"], {
      encoding: "utf8",
      timeout: 60_000,
      env,
    });
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`${afterKill.length} already done, ${8 - afterKill.length} to run`));

    const fresh = spawnSync(process.execPath, [BIN, "sweep", cfg, "--quiet", "--out", join(dir, "fresh")], {
      encoding: "utf8",
      timeout: 60_000,
      env,
    });
    expect(fresh.status).toBe(0);

    const killed = readResults([killedOut]);
    expect(killed.duplicates).toBe(0);
    expect(killed.records.length).toBe(16);
    const merged = readResultsFile(join(killedOut, "results.jsonl"));
    expect(comparable(merged)).toEqual(comparable(killed.records));
    expect(comparable(killed.records)).toEqual(comparable(readResults([join(dir, "fresh")]).records));
    // the files the first run finished were not rewritten by the resumed run
    expect(afterKill.map((f) => statSync(join(killedOut, "records", f)).mtimeMs)).toEqual(mtimes);
  });

  it("Ctrl-C (SIGINT) stops running jobs at once, records no failure, and says how to resume", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-int-"));
    const cfg = join(dir, "sweep.yaml");
    const out = join(dir, "out");
    writeFileSync(
      cfg,
      `model: none\ndata: none\ntasks: [cr]\nk: 16\nseeds: [13, 21]\nout: ${out}\nmethods: [{kind: sleep, ms: 30000}]\n`,
    );
    const child = spawn(process.execPath, [BIN, "sweep", cfg, "--quiet"], { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(out, "shards", "1-of-1.json"))) {
      if (Date.now() > deadline) throw new Error("the sweep never started");
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000); // the 30 s job was stopped, not waited for
    expect(stderr).toMatch(/interrupted/);
    expect(stderr).toMatch(/rerun the same command to resume/);
    expect(readdirSync(join(out, "records"))).toEqual([]);
    expect(existsSync(join(out, "failed"))).toBe(false);
  });

  it("two shards running at the same time into one directory produce every record exactly once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-shards-"));
    const cfg = join(dir, "sweep.yaml");
    const out = join(dir, "out");
    writeFileSync(
      cfg,
      `model: none\ndata: none\ntasks: [cr, MRPC, trec]\nk: 16\nseeds: [13, 21]\nout: ${out}\nmethods: [{kind: sleep, ms: 50, variants: 2}]\n`,
    );
    const run = (shard: string) =>
      new Promise<number | null>((r) =>
        spawn(process.execPath, [BIN, "sweep", cfg, "--quiet", "--shard", shard], { stdio: "ignore", env }).on(
          "exit",
          r,
        ),
      );
    expect(await Promise.all([run("1/2"), run("2/2")])).toEqual([0, 0]);
    const { records, duplicates } = readResults([out]);
    expect(duplicates).toBe(0);
    expect(records.length).toBe(6 * 2);
    expect(new Set(records.map((r) => `${r.task}|${r.seed}|${r.hyperparameters.variant}`)).size).toBe(12);
    expect(readdirSync(join(out, "shards")).sort()).toEqual(["1-of-2.json", "2-of-2.json"]);
    expect(existsSync(join(out, "results.jsonl"))).toBe(false);
  });
});
