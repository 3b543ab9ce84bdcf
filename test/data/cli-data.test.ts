import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { lmbff, lmbffChecksums, needs } from "../helpers/shared-data.ts";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
const entk = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), "entk-cli-data-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("entk data", () => {
  it("split writes LM-BFF's files (trec, seed 87)", needs("ENTK_LMBFF_DIR"), () => {
    const r = entk(
      "data",
      "split",
      "--data-dir",
      lmbff("original"),
      "--k",
      "16",
      "--seeds",
      "87",
      "--tasks",
      "TREC",
      "--out",
      tmp,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 files written/);
    const sums = lmbffChecksums();
    for (const f of ["train.csv", "dev.csv", "test.csv"]) {
      const h = createHash("md5")
        .update(readFileSync(join(tmp, "k-shot", "trec", "16-87", f)))
        .digest("hex");
      expect(h).toBe(sums.get(`trec/16-87/${f}`));
    }
  });

  it("split --help documents SST-2 vs GLUE-SST-2", () => {
    const help = entk("data", "split", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/GLUE-SST-2/);
    expect(help.stdout).toMatch(/6,920/);
  });

  it("usage errors exit 2; missing data exits 1 naming the file", () => {
    expect(entk("data", "split", "--k", "0").code).toBe(2);
    expect(entk("data", "split", "--mode", "k-shot-2x").code).toBe(2);
    const unknown = entk("data", "split", "--tasks", "sst3");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown task "sst3"/);
    const missing = entk("data", "split", "--tasks", "mr", "--data-dir", join(tmp, "none"), "--out", tmp);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^entk: .*none\/mr\/train\.csv: file not found/);
  });

  it("fetch --tar extracts original/ with the kernel-paper swap", () => {
    const src = join(tmp, "src", "original");
    mkdirSync(join(src, "SST-2"), { recursive: true });
    mkdirSync(join(src, "GLUE-SST-2"), { recursive: true });
    writeFileSync(join(src, "SST-2", "train.tsv"), "sentence\tlabel\nlmbff\t1\n");
    writeFileSync(join(src, "GLUE-SST-2", "train.tsv"), "sentence\tlabel\nglue\t0\n");
    spawnSync("tar", ["-cf", join(tmp, "d.tar"), "-C", join(tmp, "src"), "original"]);
    const r = entk("data", "fetch", "--tar", join(tmp, "d.tar"), "--out", join(tmp, "data"), "--kernel-paper");
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(tmp, "data", "original", "SST-2", "train.tsv"), "utf8")).toMatch(/glue/);
    expect(entk("data", "fetch", "--md5", "nothex").code).toBe(2);
  });
});
