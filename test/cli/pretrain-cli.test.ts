import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readCurve } from "../../src/training/pretrain/pretrain.ts";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
const MINI_TOKENIZER = fileURLToPath(new URL("../../models/entk-mini/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "entk-pretrain-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entk(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("entk pretrain (CLI)", () => {
  writeFileSync(join(dir, "train.txt"), "The film was great.\nIt is a good story about people.\n".repeat(40));
  writeFileSync(join(dir, "held.txt"), "The story was good.\nIt is a great film.\n".repeat(10));
  const base = ["pretrain", "--train", join(dir, "train.txt"), "--heldout", join(dir, "held.txt")];

  it("a bad --init shape, or neither --model nor --init, is a clear error (exit ≠ 0, no stack trace)", () => {
    const bad = entk(...base, "--out", join(dir, "bad"), "--init", "hidden=x", "--tokenizer", MINI_TOKENIZER);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--init: expected hidden\|layers\|heads\|intermediate\|positions=<integer ≥ 1>/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const none = entk(...base, "--out", join(dir, "none"));
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/give either --model or --init/);
  });

  it("runs end to end on a tiny model with entk-mini's tokenizer and prints its result", () => {
    const out = join(dir, "run");
    const r = entk(
      ...base,
      "--out",
      out,
      "--init",
      "hidden=8,layers=1,heads=2,intermediate=16,positions=40",
      "--tokenizer",
      MINI_TOKENIZER,
      "--seq-len",
      "16",
      "--batch-size",
      "2",
      "--accumulate",
      "1",
      "--steps",
      "3",
      "--warmup-steps",
      "1",
      "--eval-every",
      "3",
      "--eval-sequences",
      "2",
      "--threads",
      "1",
      "--quiet",
    );
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(res.steps).toBe(3);
    expect(res.tokens).toBe(3 * 2 * 16);
    expect(readCurve(join(out, "curve.jsonl")).map((p) => p.step)).toEqual([0, 3]);
  });
});
