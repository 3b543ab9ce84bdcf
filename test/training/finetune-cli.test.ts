import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { describe, expect, it, vi } from "vitest";
import { registerFinetune } from "../../src/cli/commands/finetune.ts";
import { initModel } from "../../src/model/init/init.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { writePairSplit } from "../helpers/synthetic-data.ts";
import { bowModel } from "./bow-model.ts";

/** A made-up k-shot split in QNLI's layout: 16 examples per label in train and dev, 40 in test. */
const SPLIT = writePairSplit(mkdtempSync(join(tmpdir(), "entk-qnli-")), { labels: ["entailment", "not_entailment"] });

function program() {
  const p = new Command("entk").exitOverride();
  registerFinetune(p, bowModel);
  for (const c of p.commands) c.exitOverride().configureOutput({ writeErr: () => {} });
  return p;
}

async function run(...args: string[]) {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  try {
    await program().parseAsync(["node", "entk", "finetune", ...args]);
  } finally {
    spy.mockRestore();
  }
  return out.join("");
}

describe("entk finetune", () => {
  it("rejects missing and malformed flags as usage errors naming the flag", async () => {
    const fail = async (args: string[], re: RegExp) => {
      const err = await run(...args).catch((e) => e);
      expect(err).toBeInstanceOf(CommanderError);
      expect(err.message).toMatch(re);
    };
    const base = ["--task", "QNLI", "--split-dir", SPLIT, "--model", "m", "--out", "o"];
    await fail(base.slice(2), /required option '--task <name\|file>' not specified/);
    await fail([...base, "--optimizer", "rmsprop"], /--optimizer.*Allowed choices are sgd, signgd, adam/);
    await fail([...base, "--lr", "fast"], /--lr.*expected a number >= 0, got "fast"/);
    await fail([...base, "--steps", "0"], /--steps.*expected an integer >= 1/);
    await fail([...base, "--eval-every", "often"], /--eval-every.*expected an integer >= 1, got "often"/);
    await fail(["--task", "nope", ...base.slice(2)], /unknown task "nope"/);
    await fail([...base, "--mapping", "{oops"], /mapping/i);
  });

  it("fine-tunes a tiny model on a k-shot split and prints the result record", async () => {
    const root = await mkdtemp(join(tmpdir(), "entk-ftcli-"));
    const model = join(root, "model");
    await mkdir(model);
    await initModel({ arch: "roberta", preset: "tiny", seed: 1, out: model, writeTokenizer: writeTokenizerFiles });
    const out = join(root, "ft");
    const args = ["--task", "QNLI", "--split-dir", SPLIT, "--model", model, "--out", out];
    const opts = ["--optimizer", "sgd", "--lr", "0.1", "--batch-size", "4", "--steps", "6", "--eval-every", "3"];
    const stdout = await run(...args, ...opts, "--limit-test", "10", "--json", "--quiet");
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ method: "ft:sgd", lr: 0.1, batchSize: 4, steps: 6, evalEvery: 3, task: "QNLI" });
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8")).result).toEqual(r);
    const text = await run(...args, ...opts, "--limit-test", "10", "--quiet");
    // prompt overrides become part of the run (and of its identity)
    const mapping = "{'entailment':'great','not_entailment':'terrible'}";
    const o2 = ["--out", join(root, "ft2"), "--template", "*cls**sent_0*?*mask*!*+sent_1**sep+*", "--mapping", mapping];
    const r2 = JSON.parse(await run(...args.slice(0, 6), ...o2, ...opts, "--limit-test", "10", "--json", "--quiet"));
    expect(r2.mapping).toEqual({ entailment: "great", not_entailment: "terrible" });
    expect(r2.template).toBe("*cls**sent_0*?*mask*!*+sent_1**sep+*");
    expect(r.template).toBe("*cls**sent-_0*?*mask*,*+sentl_1**sep+*");
    expect(text).toMatch(/^ft:sgd lr 0\.1 bs 4 steps 6: best step [36]\n {2}dev {3}acc \d+\.\d\d\n {2}test {2}acc/);
  });
});

describe("entk finetune (the real binary, on the engine)", () => {
  const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
  const entk = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });

  it("runs end to end, exits 2 on usage errors and 1 with a message on bad input", async () => {
    const root = await mkdtemp(join(tmpdir(), "entk-ftbin-"));
    const model = join(root, "model");
    await mkdir(model);
    await initModel({ arch: "roberta", preset: "tiny", seed: 2, out: model, writeTokenizer: writeTokenizerFiles });
    const args = ["finetune", "--task", "QNLI", "--model", model, "--out", join(root, "ft")];
    const ok = entk(...args, "--split-dir", SPLIT, "--steps", "4", "--eval-every", "2", "--limit-test", "4", "--json");
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ method: "ft:adam", steps: 4, task: "QNLI" });
    expect(entk(...args, "--split-dir", SPLIT, "--batch-size", "-1").status).toBe(2);
    const bad = entk(...args, "--split-dir", join(root, "nowhere"), "--fresh");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^entk: .*nowhere.*file not found/);
  });
});

describe("entk finetune interrupted by SIGINT", () => {
  const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));

  it("snapshots the step it reached, exits 1, and a rerun ends like an uninterrupted run", async () => {
    const root = await mkdtemp(join(tmpdir(), "entk-ftint-"));
    const model = join(root, "model");
    await mkdir(model);
    await initModel({ arch: "roberta", preset: "tiny", seed: 5, out: model, writeTokenizer: writeTokenizerFiles });
    const args = (out: string) => [
      ...["finetune", "--task", "QNLI", "--split-dir", SPLIT, "--model", model, "--out", out, "--steps", "48"],
      ...["--eval-every", "epoch", "--batch-size", "8", "--limit-test", "4", "--json", "--quiet"],
    ];
    const full = spawnSync(process.execPath, [BIN, ...args(join(root, "a"))], { encoding: "utf8", timeout: 120_000 });
    expect(full.status).toBe(0);
    const want = JSON.parse(full.stdout);
    expect(want.evalEvery).toBe("epoch");

    const out = join(root, "b");
    const child = spawn(process.execPath, [BIN, ...args(out)], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    const lines = () =>
      existsSync(join(out, "curve.jsonl")) ? readFileSync(join(out, "curve.jsonl"), "utf8").split("\n").length - 1 : 0;
    const deadline = Date.now() + 60_000;
    while (lines() < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/^entk: finetune: aborted after step (\d+) of 48; .*state\.snap holds it, rerun to resume/);
    const stopped = Number(/after step (\d+)/.exec(stderr)![1]);
    expect(stopped).toBeLessThan(48);
    const again = spawnSync(process.execPath, [BIN, ...args(out)], { encoding: "utf8", timeout: 120_000 });
    expect(again.status).toBe(0);
    const { checkpointDir: _a, curvePath: _b, ...got } = JSON.parse(again.stdout);
    const { checkpointDir: _c, curvePath: _d, ...exp } = want;
    expect(got).toEqual(exp);
    expect(readFileSync(join(out, "curve.jsonl"), "utf8")).toBe(readFileSync(join(root, "a", "curve.jsonl"), "utf8"));
  });
});
