import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { sentences } from "../helpers/synthetic-data.ts";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
const entk = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const model = mkdtempSync(join(tmpdir(), "entk-cli-prompt-"));
/** Made-up dev sets in LM-BFF's SST-2 (`sentence`, `label`) and MRPC (label first, two long sentences) layouts. */
const SST2 = join(model, "SST-2");
const MRPC = join(model, "MRPC");
beforeAll(async () => {
  await writeTokenizerFiles(model, "roberta");
  mkdirSync(SST2);
  writeFileSync(join(SST2, "dev.tsv"), "sentence\tlabel\na quiet film about the river .\t0\nthe song was good .\t1\n");
  mkdirSync(MRPC);
  const long = sentences(4, 7).map((t, i) => `${t.slice(0, -2)}, ${sentences(3, 20 + i).join(" ")}`);
  writeFileSync(
    join(MRPC, "dev.tsv"),
    `Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\t${long[0]}\t${long[1]}\n0\t3\t4\t${long[2]}\t${long[3]}\n`,
  );
});
afterAll(() => rmSync(model, { recursive: true, force: true }));

describe("entk prompt show", () => {
  it("prints the filled template, pieces, mask position and label-word ids", async () => {
    const tok = await loadTokenizer(model);
    const r = entk(
      "prompt",
      "show",
      "--task",
      "sst-2",
      "--model",
      model,
      "--split-dir",
      SST2,
      "--split",
      "dev",
      "-n",
      "2",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`0 0 -> " terrible" = "Ġterrible" id ${tok.tokenToId("Ġterrible")}`);
    expect(r.stdout).toContain(`1 1 -> " great" = "Ġgreat" id ${tok.tokenToId("Ġgreat")}`);
    expect(r.stdout).toContain("filled: <s>a quiet film about the river . It was<mask>.</s>");
    expect(r.stdout).toContain("*mask*=[<mask>]");
    const n = tok.encode("a quiet film about the river .").length;
    expect(r.stdout).toContain(`mask position: ${n + 3}`);
    expect(r.stdout.match(/mask position/g)?.length).toBe(2);
  });

  it("reports a label word that is not one token, and usage errors", () => {
    const r = entk(
      "prompt",
      "show",
      "--task",
      "SST-2",
      "--model",
      model,
      "--split-dir",
      SST2,
      "--mapping",
      "{'0':'awful','1':'great'}",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/label word "awful" \(label 0\) must be exactly one token/);
    const cut = entk(
      "prompt",
      "show",
      "--task",
      "MRPC",
      "--model",
      model,
      "--split-dir",
      MRPC,
      "--split",
      "dev",
      "-n",
      "1",
      "--max-length",
      "40",
      "--first-sent-limit",
      "10",
    );
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/truncated: \d+ tokens cut to --max-length 40/);
    expect(cut.stdout).toContain("tokens (40)");
    expect(entk("prompt", "show", "--task", "SST-2", "--model", model).code).toBe(2);
    expect(entk("prompt", "show", "--task", "SST-2", "--model", model, "--split-dir", "x", "-n", "0").code).toBe(2);
  });
});
