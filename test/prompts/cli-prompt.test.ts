import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, writeTokenizerFiles } from "../../src/tokenizer/index.ts";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
const entk = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const model = mkdtempSync(join(tmpdir(), "entk-cli-prompt-"));
beforeAll(async () => {
  await writeTokenizerFiles(model, "roberta");
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
      "../shared/datasets/original/SST-2",
      "--split",
      "dev",
      "-n",
      "2",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`0 0 -> " terrible" = "Ġterrible" id ${tok.tokenToId("Ġterrible")}`);
    expect(r.stdout).toContain(`1 1 -> " great" = "Ġgreat" id ${tok.tokenToId("Ġgreat")}`);
    expect(r.stdout).toContain("filled: <s>one long string of cliches . It was<mask>.</s>");
    expect(r.stdout).toContain("*mask*=[<mask>]");
    const n = tok.encode("one long string of cliches .").length;
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
      "../shared/datasets/original/SST-2",
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
      "../shared/datasets/original/MRPC",
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
