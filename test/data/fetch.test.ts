import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDatasetVariant } from "../../src/data/dataset-variant.ts";
import { downloadFile, fetchDatasets, resplitCr, splitCustrev } from "../../src/data/fetch.ts";
import { expectOptionRejection } from "../helpers/option-error.ts";

const root = mkdtempSync(join(tmpdir(), "entk-fetch-"));
let server: Server;
let base: string;
let tarBytes: Buffer;
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  // A tiny datasets.tar in LM-BFF's layout: original/{SST-2,GLUE-SST-2,cr}.
  const src = join(root, "src", "original");
  for (const d of ["SST-2", "GLUE-SST-2", "cr"]) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, "SST-2", "train.tsv"), "sentence\tlabel\nlmbff sentence\t1\n");
  writeFileSync(join(src, "GLUE-SST-2", "train.tsv"), "sentence\tlabel\nglue phrase\t0\n");
  const row = (l: number, i: number) => `${l},"review ${l}-${i}, ok"\n`;
  let test = "";
  let train = "";
  for (const l of [0, 1]) for (let i = 0; i < 1000; i++) test += row(l, i);
  for (const l of [0, 1]) for (let i = 1000; i < 1010; i++) train += row(l, i);
  writeFileSync(join(src, "cr", "test.csv"), test);
  writeFileSync(join(src, "cr", "train.csv"), train);
  execFileSync("tar", ["-cf", join(root, "datasets.tar"), "-C", join(root, "src"), "original"]);
  tarBytes = readFileSync(join(root, "datasets.tar"));

  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    if (req.url !== "/datasets.tar") {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m) {
      const start = Number(m[1]);
      res.writeHead(206, {
        "content-length": tarBytes.length - start,
        "content-range": `bytes ${start}-${tarBytes.length - 1}/${tarBytes.length}`,
      });
      res.end(tarBytes.subarray(start));
      return;
    }
    res.writeHead(200, { "content-length": tarBytes.length });
    res.end(tarBytes);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

describe("downloadFile", () => {
  it("resumes a partial download with an HTTP Range request and verifies the md5", async () => {
    const dest = join(root, "dl", "datasets.tar");
    mkdirSync(join(root, "dl"), { recursive: true });
    writeFileSync(`${dest}.part`, tarBytes.subarray(0, 1000));
    ranges.length = 0;
    await downloadFile({ url: `${base}/datasets.tar`, dest, md5: md5(tarBytes), quiet: true });
    expect(ranges).toEqual(["bytes=1000-"]);
    expect(md5(readFileSync(dest))).toBe(md5(tarBytes));
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it("rejects a wrong md5, an HTTP error and an unreachable host with clear messages", async () => {
    const dest = join(root, "dl2", "x.tar");
    await expect(downloadFile({ url: `${base}/datasets.tar`, dest, md5: "0".repeat(32), quiet: true })).rejects.toThrow(
      /md5 [0-9a-f]{32} does not match/,
    );
    await expect(downloadFile({ url: `${base}/missing.tar`, dest, quiet: true })).rejects.toThrow(/HTTP 404/);
    // A port nothing listens on (the server's port after closing a second server).
    const s2 = createServer();
    await new Promise<void>((r) => s2.listen(0, "127.0.0.1", r));
    const port = (s2.address() as AddressInfo).port;
    await new Promise((r) => s2.close(r));
    await expectOptionRejection(
      downloadFile({ url: `http://127.0.0.1:${port}/d.tar`, dest, quiet: true }),
      "tar",
      /cannot download .*ECONNREFUSED.*offline\?.*pass it with tar FILE/,
    );
  });
});

describe("fetchDatasets", () => {
  it("extracts original/ as is", async () => {
    const out = join(root, "plain");
    const target = await fetchDatasets({ outDir: out, url: `${base}/datasets.tar`, md5: md5(tarBytes), quiet: true });
    expect(readFileSync(join(target, "SST-2", "train.tsv"), "utf8")).toMatch(/lmbff sentence/);
    expect(readFileSync(join(target, "GLUE-SST-2", "train.tsv"), "utf8")).toMatch(/glue phrase/);
    expect(readDatasetVariant(target)).toBe("lm-bff");
    await expectOptionRejection(
      fetchDatasets({ outDir: out, url: `${base}/datasets.tar`, quiet: true }),
      "force",
      /original exists already \(use force/,
    );
  });

  it("applies the kernel paper's SST-2 swap and CR re-split (250 test rows per class)", async () => {
    const out = join(root, "kernel");
    const target = await fetchDatasets({
      outDir: out,
      tar: join(root, "datasets.tar"),
      kernelPaper: true,
      quiet: true,
    });
    expect(readFileSync(join(target, "SST-2", "train.tsv"), "utf8")).toMatch(/glue phrase/);
    expect(readFileSync(join(target, "SST-2-original", "train.tsv"), "utf8")).toMatch(/lmbff sentence/);
    expect(existsSync(join(target, "GLUE-SST-2"))).toBe(false);
    expect(readDatasetVariant(target)).toBe("kernel-paper");
    const test = readFileSync(join(target, "cr", "test.csv"), "utf8")
      .trim()
      .split("\n");
    const train = readFileSync(join(target, "cr", "train.csv"), "utf8")
      .trim()
      .split("\n");
    expect(test.length).toBe(500);
    expect(train.length).toBe(2020 - 500);
    expect(test[0]).toBe('0,"review 0-0, ok"');
    expect(test[250]).toBe('1,"review 1-0, ok"');
    expect(train[0]).toBe('0,"review 0-250, ok"');
    expect(train.filter((l) => l.startsWith("0,")).length).toBe(760);
  });
});

/**
 * LM-BFF's `original/cr/process.py` rules, run in Python at test time: text-mode lines, strip, label int(line[0]),
 * text line[2:], rows grouped by label in first-appearance order, the first `n` of each label to test.csv, the rest
 * to train.csv, written as pandas to_csv(header=False, index=False) writes them (csv module, minimal quoting).
 */
const PROCESS_PY = `
import csv, sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mapping = {}
for line in open(src):
    line = line.strip()
    label = int(line[0])
    mapping.setdefault(label, []).append([label, line[2:]])
test = [r for rows in mapping.values() for r in rows[:n]]
train = [r for rows in mapping.values() for r in rows[n:]]
for name, rows in (("test.csv", test), ("train.csv", train)):
    with open(out + "/" + name, "w", newline="") as f:
        csv.writer(f, lineterminator="\\n").writerows(rows)
`;

describe("the kernel paper's CR split (process.py with 1000 → 250)", () => {
  // custrev.all-shaped: "<label> <text>" lines, labels interleaved (class 1 first), CRLF and trailing blanks,
  // commas and quotes, a review that is empty after the label; more than 1000 lines per class.
  const dir = join(root, "custrev");
  const lines: string[] = [];
  for (let i = 0; i < 2300; i++) {
    const l = i % 3 === 0 ? 0 : 1;
    const text = i === 7 ? "" : i % 5 === 0 ? `said "great", really ${i}` : `review, ${i}`;
    lines.push(`${l} ${text}${i % 4 === 0 ? "  \r\n" : "\n"}`);
  }
  const python = (n: number, out: string) => {
    mkdirSync(out, { recursive: true });
    execFileSync("python3", ["-c", PROCESS_PY, join(dir, "custrev.all"), String(n), out]);
    return { test: readFileSync(join(out, "test.csv"), "utf8"), train: readFileSync(join(out, "train.csv"), "utf8") };
  };
  const read = (d: string) => ({
    test: readFileSync(join(d, "test.csv"), "utf8"),
    train: readFileSync(join(d, "train.csv"), "utf8"),
  });

  it("splits custrev.all directly as process.py does, byte for byte", async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "custrev.all"), lines.join(""));
    const want = python(250, join(root, "py250"));
    expect(await splitCustrev(dir)).toEqual({ test: 500, train: 1800 });
    expect(read(dir)).toEqual(want);
  });

  it("without custrev.all, re-splits LM-BFF's 1000-per-class files into the same 250 split", async () => {
    const lmbff = join(root, "lmbff-cr");
    python(1000, lmbff);
    await resplitCr(lmbff);
    expect(read(lmbff)).toEqual(python(250, join(root, "py250b")));
  });

  it("data fetch --kernel-paper uses custrev.all when the archive has it", async () => {
    const src = join(root, "src2", "original");
    for (const d of ["SST-2", "GLUE-SST-2", "cr"]) mkdirSync(join(src, d), { recursive: true });
    writeFileSync(join(src, "GLUE-SST-2", "train.tsv"), "sentence\tlabel\nglue phrase\t0\n");
    writeFileSync(join(src, "cr", "custrev.all"), lines.join(""));
    writeFileSync(join(src, "cr", "test.csv"), "0,not from custrev.all\n");
    writeFileSync(join(src, "cr", "train.csv"), "1,not from custrev.all\n");
    execFileSync("tar", ["-cf", join(root, "d2.tar"), "-C", join(root, "src2"), "original"]);
    const target = await fetchDatasets({
      outDir: join(root, "k2"),
      tar: join(root, "d2.tar"),
      kernelPaper: true,
      quiet: true,
    });
    expect(read(join(target, "cr"))).toEqual(python(250, join(root, "py250c")));
  });

  it("names the line of a custrev.all row without a label", async () => {
    const bad = join(root, "bad-cr");
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "custrev.all"), "1 fine\n\nx oops\n");
    await expect(splitCustrev(bad)).rejects.toThrow(/custrev\.all:2: expected a line "<digit label> <text>"/);
  });
});
