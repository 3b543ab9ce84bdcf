/**
 * Issue 22: `entk cache info|prune|clear` over a cache root (one folder per task and model), least recently used
 * first, and safe against running jobs: a group in use (src/util/lock.ts lock files, taken by useCacheGroup) is left
 * alone by prune and clear, which say which job holds it; a dead holder's lock does not keep it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { readCacheEntry } from "../../src/kernels/cache.ts";
import { cacheGroup, cacheInfo, parseGroup, pruneCache, useCacheGroup } from "../../src/kernels/cache-admin.ts";
import { tryLock } from "../../src/util/lock.ts";

let root: string;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 31);
const SST = "SST-2--tiny-roberta-0123abcd";
const RTE = "RTE--roberta-base-89abcdef";

/** A cache entry of `bytes` bytes last used `daysAgo` days before NOW. */
function entry(rel: string, bytes: number, daysAgo: number) {
  const path = join(root, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, new Uint8Array(bytes));
  const t = new Date(NOW - daysAgo * DAY);
  utimesSync(path, t, t);
  return path;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "entk-cache-admin-"));
  entry(`${SST}/factors/a.factors`, 1000, 10);
  entry(`${SST}/factors/b.factors`, 2000, 5);
  entry(`${RTE}/factors/c.factors`, 3000, 1);
  entry(`${RTE}/kernel-blocks/x.kblock`, 400, 20);
  entry(`${SST}/kernel-blocks/m.run.json`, 50, 2);
  // The older flat layout: listed under no group, pruned like the rest.
  entry("kernel-blocks/old.kblock", 100, 40);
  // A write in progress and a foreign file: never counted, never removed.
  entry(`${SST}/factors/.d.factors.123.abcd.tmp`, 700, 30);
  entry(`${RTE}/kernel-blocks/notes.txt`, 9, 30);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  vi.restoreAllMocks();
});

const files = (rel: string) => (existsSync(join(root, rel)) ? readdirSync(join(root, rel)).sort() : []);

/** A second process that marks `group` in use, prints "ready", and exits when its stdin closes. */
async function otherJob(group: string): Promise<ChildProcess> {
  const code =
    `const { useCacheGroup } = await import(${JSON.stringify(join(import.meta.dirname, "../../src/kernels/cache-admin.ts"))});` +
    `await useCacheGroup(${JSON.stringify(root)}, ${JSON.stringify(group)}, "entk kernel RTE (test)");` +
    `process.stdout.write("ready\\n"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0));`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  await new Promise<void>((ok, fail) => {
    child.stdout!.on("data", (d) => String(d).includes("ready") && ok());
    child.once("exit", (c) => fail(new Error(`child exited with ${c}`)));
  });
  return child;
}

describe("kernel cache administration", () => {
  it("groups are named by task and model (and the weights), readable back", () => {
    const g = cacheGroup("SST-2", "FacebookAI/roberta-base", "a1b2c3d4e5f6");
    expect(g).toBe("SST-2--roberta-base-a1b2c3d4");
    expect(parseGroup(g)).toEqual({ task: "SST-2", model: "roberta-base-a1b2c3d4" });
    // A task name with "--" or odd characters cannot shift the split.
    expect(parseGroup(cacheGroup("my--task v2", "/models/x", "ff")).task).toBe("my-task_v2");
  });

  it("info sums sizes by kind and by task and model", () => {
    const info = cacheInfo(root);
    expect(info.total).toEqual({ files: 6, bytes: 6550 });
    expect(info.kinds.factors).toEqual({ files: 3, bytes: 6000 });
    expect(info.kinds["kernel-blocks"]).toEqual({ files: 2, bytes: 500 });
    expect(info.kinds.manifests).toEqual({ files: 1, bytes: 50 });
    const by = Object.fromEntries(info.groups.map((g) => [g.group, g]));
    expect(by[RTE]).toMatchObject({ task: "RTE", model: "roberta-base-89abcdef", files: 2, bytes: 3400 });
    expect(by[RTE].kinds.factors).toEqual({ files: 1, bytes: 3000 });
    expect(by[SST]).toMatchObject({ task: "SST-2", files: 3, bytes: 3050 });
    expect(by[""]).toMatchObject({ files: 1, bytes: 100 });
    expect(info.groups.map((g) => g.group)).toEqual([RTE, SST, ""]);
  });

  it("prune --older-than removes entries unused for that long", async () => {
    expect(await pruneCache(root, { olderThanDays: 7, nowMs: NOW })).toEqual({ files: 3, bytes: 1500, skipped: [] });
    expect(files(`${SST}/factors`)).toEqual([".d.factors.123.abcd.tmp", "b.factors"]);
    expect(files(`${RTE}/kernel-blocks`)).toEqual(["notes.txt"]);
  });

  it("prune --max-size removes least recently used first; a read counts as a use", async () => {
    // Reading a (10 days old) makes it the most recently used entry.
    expect(readCacheEntry(join(root, SST, "factors/a.factors"))?.length).toBe(1000);
    // 6550 bytes → ≤ 4100: old (40 d, 100), x (20 d, 400) then b (5 d, 2000) go; a (just read), m and c stay.
    expect(await pruneCache(root, { maxBytes: 4100, nowMs: NOW })).toMatchObject({ files: 3, bytes: 2500 });
    expect(existsSync(join(root, SST, "factors/a.factors"))).toBe(true);
    expect(existsSync(join(root, SST, "factors/b.factors"))).toBe(false);
    expect(cacheInfo(root).total).toEqual({ files: 3, bytes: 4050 });
  });

  it("a reader treats an entry removed under it as a miss", () => {
    expect(readCacheEntry(join(root, "factors/gone.factors"))).toBeUndefined();
  });

  it("prune and clear leave a group in use by this process alone, and say so; released, it goes", async () => {
    const lock = await useCacheGroup(root, SST, "entk kernel SST-2 (test)");
    const r = await pruneCache(root, { maxBytes: 0 });
    expect(r).toMatchObject({ files: 3, bytes: 3500 });
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0]).toMatchObject({ group: SST, files: 3, bytes: 3050 });
    expect(r.skipped[0].users.map((u) => [u.pid, u.what])).toEqual([[process.pid, "entk kernel SST-2 (test)"]]);
    expect(files(`${SST}/factors`)).toEqual([".d.factors.123.abcd.tmp", "a.factors", "b.factors"]);
    expect(cacheInfo(root).groups.find((g) => g.group === SST)?.users).toHaveLength(1);
    lock.release();
    expect(await pruneCache(root, { maxBytes: 0 })).toEqual({ files: 3, bytes: 3050, skipped: [] });
    expect(cacheInfo(root).total.files).toBe(0);
  });

  it("a job registering waits while a prune holds the cache", async () => {
    const admin = tryLock(join(root, ".admin.lock"), "entk cache prune (test)");
    if (!("release" in admin)) throw new Error("admin lock not taken");
    const told: string[] = [];
    let got = false;
    const p = useCacheGroup(root, SST, "job", { pollMs: 10, onWait: (h) => told.push(h.what ?? "") }).then((l) => {
      got = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe(false);
    expect(told).toEqual(["entk cache prune (test)"]);
    admin.release();
    (await p).release();
    expect(got).toBe(true);
  });

  it("entk cache clear under a job in another process skips its group and names it; a killed job's lock is stale", async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const child = await otherJob(RTE);
    try {
      expect(await main(["node", "entk", "cache", "clear", "--cache-dir", root])).toBe(0);
      expect(out.join("")).toContain("removed 4 files, 3.1 KiB");
      expect(out.join("")).toContain(`skipped 2 files, 3.3 KiB of ${RTE}: in use by pid ${child.pid} on `);
      expect(out.join("")).toContain("(entk kernel RTE (test))");
      expect(files(`${RTE}/factors`)).toEqual(["c.factors"]);
      out.length = 0;
      expect(await main(["node", "entk", "cache", "info", "--cache-dir", root])).toBe(0);
      expect(out.join("")).toMatch(new RegExp(`${RTE}: 2 files, 3.3 KiB \\(factors 2.9 KiB, kernel-blocks 400 B\\)`));
      expect(out.join("")).toContain(`in use by pid ${child.pid}`);
    } finally {
      await new Promise((ok) => {
        child.once("close", ok);
        child.kill("SIGKILL");
      });
    }
    // Killed, it left its lock file behind: stale, so the next clear removes the group.
    expect(files(`${RTE}/in-use`)).toHaveLength(1);
    expect((await pruneCache(root, { maxBytes: 0 })).files).toBe(2);
    expect(files(RTE)).toEqual(["kernel-blocks"]); // holding only the foreign notes.txt
  }, 90_000);

  it("entk cache info / prune / clear", async () => {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["node", "entk", "cache", "info", "--cache-dir", root])).toBe(0);
    expect(out).toContain(`location: ${root}`);
    expect(out).toContain("total: 6 files, 6.4 KiB; budget ");
    expect(out).toMatch(/factors: 3 files, 5\.9 KiB/);
    expect(out).toMatch(
      /by task:\n {2}RTE: 2 files, 3\.3 KiB\n {2}SST-2: 3 files, 3\.0 KiB\n {2}\(older layout\): 1 files, 100 B/,
    );
    expect(out).toMatch(/by model:\n {2}roberta-base-89abcdef: 2 files/);
    expect(await main(["node", "entk", "cache", "prune", "--cache-dir", root])).toBe(2);
    expect(await main(["node", "entk", "cache", "prune", "--cache-dir", root, "--max-size", "5000"])).toBe(0);
    expect(cacheInfo(root).total.bytes).toBeLessThanOrEqual(5000);
    expect(await main(["node", "entk", "cache", "clear", "--cache-dir", root])).toBe(0);
    expect(cacheInfo(root).total).toEqual({ files: 0, bytes: 0 });
    expect(existsSync(join(root, SST, "factors/.d.factors.123.abcd.tmp"))).toBe(true);
    expect(existsSync(join(root, RTE, "kernel-blocks/notes.txt"))).toBe(true);
  });
});
