/**
 * Issue 19: locks, stale temp files, checksummed snapshots, .npy headers, and the data/prompt inputs that used to be
 * accepted silently. Fast, no model.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateKShot } from "../../src/data/kshot.ts";
import { readSplit, readText } from "../../src/data/readers.ts";
import { parseSweepConfig } from "../../src/experiments/config.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { validateTemplate } from "../../src/prompts/template.ts";
import { openSnapshot, writeSnapshot } from "../../src/training/snapshot.ts";
import { cleanStaleTemps, tempPathFor } from "../../src/util/atomic.ts";
import { insideDir } from "../../src/util/io.ts";
import { acquireLock, LockHeldError, readLock, tryLock } from "../../src/util/lock.ts";
import { decodeNpy } from "../../src/util/npy.ts";
import { expectOptionRejection } from "../helpers/option-error.ts";

const tmp = mkdtempSync(join(tmpdir(), "entk-rel-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A live process on this host (its pid holds locks / temp files in the tests), and a way to end it. */
function sleeper(): { pid: number; stop: () => Promise<void> } {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  return {
    pid: child.pid!,
    stop: () =>
      new Promise((ok) => {
        child.once("close", () => ok());
        child.kill("SIGKILL");
      }),
  };
}
const lockOf = (pid: number, host = hostname()) =>
  JSON.stringify({ pid, host, startedAt: "2026-01-01T00:00:00.000Z", what: "test holder", nonce: `n${pid}` });

describe("locks", () => {
  it("report a live holder (pid, host, what), reclaim a dead one's lock, and exclude a second taker", async () => {
    const path = join(tmp, "a", ".entk.lock");
    mkdirSync(join(tmp, "a"));
    const s = sleeper();
    writeFileSync(path, lockOf(s.pid));
    const got = tryLock(path);
    expect("release" in got).toBe(false);
    expect((got as { pid: number }).pid).toBe(s.pid);
    const err = (await acquireLock(path, { wait: false }).catch((e) => e)) as LockHeldError;
    expect(err).toBeInstanceOf(LockHeldError);
    expect(err.message).toMatch(new RegExp(`in use by pid ${s.pid} on host .* \\(test holder\\)`));
    // Waiting: the holder dies, then the lock is reclaimed.
    const told: number[] = [];
    const waiting = acquireLock(path, { wait: 10_000, pollMs: 20, onWait: (h) => told.push(h.pid) });
    await new Promise((r) => setTimeout(r, 100));
    await s.stop();
    const lock = await waiting;
    expect(told).toEqual([s.pid]);
    expect(readLock(path)?.pid).toBe(process.pid);
    // A second taker in this process (e.g. a second job) sees us as the holder.
    expect("release" in tryLock(path)).toBe(false);
    lock.release();
    expect(existsSync(path)).toBe(false);
    // A lock held on another host is never reclaimed.
    writeFileSync(path, lockOf(999_999, "elsewhere"));
    expect((tryLock(path) as { host: string }).host).toBe("elsewhere");
    rmSync(path);
    // Garbage in the lock file is not a holder.
    writeFileSync(path, "{");
    const l2 = tryLock(path);
    expect("release" in l2).toBe(true);
    (l2 as { release(): void }).release();
  });
});

describe("stale temp files", () => {
  it("a lock taker killed while writing its temp leaves nothing once the lock is next taken", async () => {
    const dir = join(tmp, "lock-temps");
    const path = join(dir, ".admin.lock");
    mkdirSync(dir);
    const gone = sleeper();
    await gone.stop();
    const left = tempPathFor(path).replace(`-${process.pid}-`, `-${gone.pid}-`);
    writeFileSync(left, lockOf(gone.pid));
    const lock = tryLock(path);
    expect("release" in lock).toBe(true);
    (lock as { release(): void }).release();
    expect(existsSync(left)).toBe(false);
  });

  it("are removed when their writer is gone; live writers' and other hosts' are kept", async () => {
    const dir = join(tmp, "temps");
    mkdirSync(dir);
    const alive = sleeper();
    const gone = sleeper();
    await gone.stop();
    const mine = tempPathFor(join(dir, "x.npy"));
    const as = (pid: number, suffix = "tmp") =>
      mine.replace(`-${process.pid}-`, `-${pid}-`).replace(/\.tmp$/, `.${suffix}`);
    writeFileSync(mine, "ours");
    writeFileSync(as(alive.pid), "a live writer");
    writeFileSync(as(gone.pid), "a killed writer");
    mkdirSync(as(gone.pid, "old")); // a half-replaced directory of a killed writer
    const other = as(gone.pid).replace(/entk-[0-9a-f]{6}-/, "entk-000000-");
    writeFileSync(other, "another host");
    expect(cleanStaleTemps(dir).sort()).toEqual([as(gone.pid), as(gone.pid, "old")].sort());
    for (const p of [mine, as(alive.pid), other]) expect(existsSync(p)).toBe(true);
    await alive.stop();
  });
});

describe("training snapshots", () => {
  it("are checksummed: one flipped byte is refused with a clear message", async () => {
    const path = join(tmp, "state.snap");
    const t = new Map([["p:w", Float32Array.from({ length: 64 }, (_, i) => i / 7)]]);
    await writeSnapshot(path, { version: 1, step: 4 }, t);
    const ok = await openSnapshot(path);
    expect(ok.meta).toEqual({ version: 1, step: 4 });
    const bytes = readFileSync(path);
    bytes[bytes.length - 100] ^= 0x10; // inside the tensor data
    writeFileSync(path, bytes);
    await expect(openSnapshot(path)).rejects.toThrow(
      /state\.snap: corrupt training snapshot \(checksum mismatch\).*start fresh/,
    );
    writeFileSync(path, bytes.subarray(0, bytes.length - 7));
    await expect(openSnapshot(path)).rejects.toThrow(/corrupt training snapshot/);
  });
});

describe("paths and files", () => {
  it("insideDir refuses names that leave the directory", () => {
    expect(insideDir("/c/refs", "main")).toBe("/c/refs/main");
    expect(() => insideDir("/c/refs", "../../x")).toThrow(/resolves outside \/c\/refs/);
  });

  it("a garbage .npy header is reported as such, not as a negative byte count", () => {
    const buf = new Uint8Array(64);
    buf.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0xff]);
    expect(() => decodeNpy(buf, "x.npy")).toThrow(
      /x\.npy: truncated or corrupt \.npy header: it declares 65535 header bytes/,
    );
    const h = new TextEncoder().encode("{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 2), }\n");
    const b2 = new Uint8Array(10 + h.length);
    b2.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0]);
    b2.set(h, 10);
    expect(() => decodeNpy(b2, "y.npy")).toThrow(/y\.npy: malformed \.npy header: shape/);
  });
});

describe("bad data and prompts", () => {
  const sst2 = loadTask("GLUE-SST-2");
  const split = (name: string, files: Record<string, string | Buffer>) => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    return dir;
  };

  it("a TSV without its header line is refused (its first example would be lost)", () => {
    const dir = split("nohead", { "train.tsv": "a fine movie\t1\nawful\t0\n" });
    expect(() => readSplit(dir, sst2.data, "train", sst2.labels)).toThrow(
      /train\.tsv:1: expected a header line, but it looks like an example/,
    );
  });

  it("an empty split file is refused with its name", () => {
    const dir = split("empty", { "test.tsv": "sentence\tlabel\n" });
    expect(() => readSplit(dir, sst2.data, "test", sst2.labels)).toThrow(/empty[/\\]test\.tsv: no examples/);
    const mr = loadTask("mr");
    const d2 = split("emptycsv", { "train.csv": "" });
    expect(() => readSplit(d2, mr.data, "train", mr.labels)).toThrow(/emptycsv[/\\]train\.csv: no examples/);
  });

  it("a label column outside the file blames the task layout; an unclosed quote is named as such", () => {
    const mr = loadTask("mr");
    const dir = split("cols", { "train.csv": '1,a movie\n1,"fine, fun"\n0,"dull\n1,fine\n0,"ok",x\n' });
    expect(() => readSplit(dir, { ...mr.data, labelColumn: 5 }, "train", mr.labels)).toThrow(
      /train\.csv: the task's data\.labelColumn 5 is outside the file's 2 columns/,
    );
    expect(() => readSplit(dir, mr.data, "train", mr.labels)).toThrow(
      /train\.csv:3: a quoted field opened on this line runs over 3 lines \(unclosed quote\?\)/,
    );
  });

  it("invalid UTF-8 is replaced with a warning naming file and line", () => {
    const path = join(tmp, "latin1.tsv");
    writeFileSync(
      path,
      Buffer.concat([Buffer.from("sentence\tlabel\nok\t1\ncaf"), Buffer.from([0xe9]), Buffer.from("\t0\n")]),
    );
    const warned: string[] = [];
    const text = readText(path, (m) => warned.push(m));
    expect(text).toContain("caf\uFFFD");
    expect(warned).toEqual([`${path}:3: invalid UTF-8, replaced by U+FFFD`]);
  });

  it("templates need exactly one mask and a sentence", () => {
    expect(() => validateTemplate("*cls**sent_0*_It_was*mask**mask*.*sep+*", 1, 2)).toThrow(/has 2 \*mask\* pieces/);
    expect(() => validateTemplate("*cls*_It_was*mask*.*sep+*", 1, 2)).toThrow(/uses no sentence/);
  });

  it("--k above every class is refused instead of writing an empty dev set", async () => {
    const data = join(tmp, "orig");
    mkdirSync(join(data, "T"), { recursive: true });
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `s${i}\t${i % 2}\n`).join("");
    writeFileSync(join(data, "T", "train.tsv"), `sentence\tlabel\n${rows(8)}`);
    writeFileSync(join(data, "T", "dev.tsv"), `sentence\tlabel\n${rows(4)}`);
    const layout = { ...sst2.data, dir: "T", original: { train: "train.tsv", eval: ["dev.tsv"] } };
    const opts = {
      dataDir: data,
      outDir: join(tmp, "kout"),
      seeds: [13],
      mode: "k-shot" as const,
      tasks: [{ name: "T", layout }],
    };
    await expectOptionRejection(
      generateKShot({ ...opts, k: 4 }),
      "k",
      /^k 4: every class of .*train\.tsv has at most 4 examples, so T's dev set would be empty/,
    );
    await expect(generateKShot({ ...opts, k: 2 })).resolves.toBeDefined();
  });

  it("a sweep config naming an unknown task fails validation with its key path", () => {
    const text =
      "model: m\ndata: d\ntasks: [SST-2, sst-3]\nk: [16]\nseeds: [13]\nout: o\nmethods: [{kind: zero-shot}]\n";
    expect(() => parseSweepConfig(text, "c.yaml")).toThrow(/tasks\[1\].*unknown task "sst-3"/);
  });
});
