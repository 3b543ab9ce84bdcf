import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTmpDirs, tmpDir } from "../weights/helpers.ts";

afterAll(removeTmpDirs);

const BIN = fileURLToPath(new URL("../../../bin/entk.js", import.meta.url));
const entk = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("entk model init / info", () => {
  it("init writes a model that info validates; bad flags are usage errors", () => {
    const out = join(tmpDir("entk-cli-"), "m");
    const r = entk("model", "init", "--arch", "bert", "--preset", "tiny", "--seed", "5", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    for (const f of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ])
      expect(existsSync(join(out, f))).toBe(true);
    const info = entk("model", "info", out, "--json");
    expect(info.code).toBe(0);
    const d = JSON.parse(info.stdout);
    expect(d.config.modelType).toBe("bert");
    expect(d.files).toEqual(["model.safetensors"]);
    expect(d.parameters).toBe(d.parameters_in_place);
    expect(d.hash).toMatch(/^[0-9a-f]{64}$/);

    const bad = entk("model", "init", "--arch", "gpt2", "--preset", "tiny", "--seed", "1", "--out", out);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'gpt2' is invalid\. Allowed choices are roberta, bert/);
    const again = entk("model", "init", "--arch", "bert", "--preset", "tiny", "--seed", "1", "--out", out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^entk: .*already holds .*--force/);
    const missing = entk("model", "info", "./no/such/dir");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^entk: \.\/no\/such\/dir: no such model directory/);
  });
});
