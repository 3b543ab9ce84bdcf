import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { TOKENIZER_FILES } from "../../src/tokenizer/load.ts";
import { readCurve } from "../../src/training/pretrain/pretrain.ts";

// scripts/build-entk-mini.ts packages pretraining runs and records them in pretraining.json, so that a later stage
// (or the card alone) can be packaged after the run folders are gone. Checked here on a tiny two-stage pretraining:
// packaging stage 2 on top of the packaged stage 1 (record) gives byte for byte what packaging both run folders
// gives, and regenerating a packaged model from its record changes nothing.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/entk.js");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const MINI = join(ROOT, "models/entk-mini");
const OUTPUTS = [
  "README.md",
  "pretraining.json",
  "model.safetensors",
  "config.json",
  "curve-loss.svg",
  "curve-top1.svg",
];
const dir = mkdtempSync(join(tmpdir(), "entk-build-mini-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]) {
  const env = { ...process.env };
  delete env.ENTK_LMBFF_DIR; // the bundled tasks only: the LM-BFF rows are not what this test is about
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: 300_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const ok = (r: ReturnType<typeof run>) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
};
const pretrain = (out: string, start: string[], seed: number) =>
  ok(
    run(process.execPath, [
      BIN,
      "pretrain",
      ...start,
      ...["--train", join(dir, "corpus/train.txt"), "--heldout", join(dir, "corpus/heldout.txt"), "--out", out],
      ...["--seq-len", "16", "--batch-size", "2", "--accumulate", "1", "--steps", "4", "--warmup-steps", "1"],
      ...["--eval-every", "2", "--eval-sequences", "2", "--seed", String(seed), "--threads", "1", "--quiet"],
    ]),
  );
/** An output folder holding the tokenizer files, as scripts/build-tokenizer.ts leaves it. */
function packageDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const f of TOKENIZER_FILES) if (existsSync(join(MINI, f))) copyFileSync(join(MINI, f), join(d, f));
  return d;
}
const build = (...args: string[]) => run(TSX, ["scripts/build-entk-mini.ts", ...args]);
const read = (d: string, f: string) => readFileSync(join(d, f));

describe("scripts/build-entk-mini.ts and pretraining.json", () => {
  const corpus = join(dir, "corpus");
  mkdirSync(corpus);
  const train = "The film was great.\nIt is a good story about people.\n".repeat(40);
  const heldout = "The story was good.\nIt is a great film.\n".repeat(10);
  writeFileSync(join(corpus, "train.txt"), train);
  writeFileSync(join(corpus, "heldout.txt"), heldout);
  const source = { id: "toy", registry: "npm", package: "toy", version: "1.0.0", licence: "MIT", bytes: train.length };
  const totals = { trainBytes: train.length, heldoutBytes: heldout.length, heldoutDocuments: 20, duplicatesRemoved: 0 };
  const manifest = (sha: string) => ({
    sources: [{ ...source, sha256: sha }],
    totals: { ...totals, trainSha256: sha },
    exclusion: { tasks: [], sentencesRemoved: 0 },
  });
  writeFileSync(join(corpus, "manifest.json"), JSON.stringify(manifest("a".repeat(64))));

  it("stage 2 packaged on the packaged stage 1 equals both run folders packaged; regeneration changes nothing", () => {
    const run1 = join(dir, "run1");
    const init = ["--init", "hidden=8,layers=1,heads=2,intermediate=16,positions=514", "--tokenizer", MINI];
    pretrain(run1, init, 1);
    const stage1 = packageDir("stage1");
    ok(build("--run", run1, "--corpus", corpus, "--out", stage1));
    const run2 = join(dir, "run2");
    pretrain(run2, ["--model", stage1], 2);

    const fromRuns = packageDir("from-runs");
    ok(build("--run", `${run1},${run2}`, "--corpus", corpus, "--out", fromRuns));
    const fromRecord = packageDir("from-record");
    ok(build("--previous", stage1, "--run", run2, "--corpus", corpus, "--out", fromRecord));
    for (const f of OUTPUTS) expect(read(fromRecord, f).equals(read(fromRuns, f)), f).toBe(true);

    // The record holds each run's curve as its curve.jsonl has it.
    const rec = JSON.parse(read(fromRecord, "pretraining.json").toString());
    expect(rec.stages.map((s: { curve: { step: number }[] }) => s.curve.map((p) => p.step))).toEqual([
      [0, 2, 4],
      [0, 2, 4],
    ]);
    const curve2 = readCurve(join(run2, "curve.jsonl"));
    expect(rec.stages[1].curve.map((p: { heldoutLoss: number }) => p.heldoutLoss)).toEqual(
      curve2.map((p) => p.heldoutLoss),
    );
    expect(rec.stages[1].packagedStart).toBe(true);
    expect(read(fromRecord, "README.md").toString()).toMatch(/\| 2 \| stage 1's weights \(float16, as packaged\) \|/);

    // Regenerated in place from its own record: every file as it was.
    rmSync(run1, { recursive: true });
    rmSync(run2, { recursive: true });
    ok(build("--previous", fromRecord, "--corpus", corpus, "--out", fromRecord));
    for (const f of OUTPUTS) expect(read(fromRecord, f).equals(read(fromRuns, f)), f).toBe(true);
  }, 600_000);

  it("a stage started from stacked layers: the card says so, and its rebuild commands start from the old depth", () => {
    const run1 = join(dir, "deep-run1");
    pretrain(run1, ["--init", "hidden=8,layers=2,heads=2,intermediate=16,positions=514", "--tokenizer", MINI], 3);
    const stage1 = packageDir("deep-stage1");
    ok(build("--run", run1, "--corpus", corpus, "--out", stage1));
    const start2 = join(dir, "deep-start2");
    ok(run(TSX, ["scripts/stack-layers.ts", "--model", stage1, "--out", start2, "--order", "0,1,1"]));
    const run2 = join(dir, "deep-run2");
    pretrain(run2, ["--model", start2], 4);
    const fromRecord = packageDir("deep-from-record");
    ok(build("--previous", stage1, "--run", run2, "--corpus", corpus, "--out", fromRecord));
    const fromRuns = packageDir("deep-from-runs");
    ok(build("--run", `${run1},${run2}`, "--corpus", corpus, "--out", fromRuns));
    for (const f of OUTPUTS) expect(read(fromRecord, f).equals(read(fromRuns, f)), f).toBe(true);

    const card = read(fromRecord, "README.md").toString();
    expect(JSON.parse(read(fromRecord, "config.json").toString()).num_hidden_layers).toBe(3);
    expect(card).toMatch(
      /\| 2 \| stage 1's weights \(float16, as packaged\), its 2 layers stacked into 3 \(copies of layers 0, 1, 1\) \|/,
    );
    expect(card).toMatch(/npx entk pretrain --init hidden=8,layers=2,/);
    expect(card).toMatch(
      /npx tsx scripts\/stack-layers.ts --model STAGE1 --out START2 --order 0,1,1\nnpx entk pretrain --model START2 /,
    );
  }, 600_000);

  it("refuses to regenerate on a corpus other than the one the last stage read", () => {
    const other = join(dir, "other");
    mkdirSync(other);
    for (const f of ["train.txt", "heldout.txt"]) copyFileSync(join(corpus, f), join(other, f));
    writeFileSync(join(other, "manifest.json"), JSON.stringify(manifest("b".repeat(64))));
    const r = build("--previous", join(dir, "from-record"), "--corpus", other, "--out", join(dir, "x"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not the corpus the last stage of .* read/);
  });

  it("refuses an output folder without the tokenizer in one line, with the command that writes it", () => {
    const bare = join(dir, "no-tokenizer");
    const r = build("--previous", join(dir, "from-record"), "--corpus", corpus, "--out", bare);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^build-entk-mini: --out .*: no tokenizer\.json; .*scripts\/build-tokenizer\.ts --out /m);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });
});
