import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handSafetensors, rawF32, removeTmpDirs, tinyConfigJson, tinyTensors, tmpDir } from "../weights/helpers.ts";
import { serveHub } from "./server.ts";

afterAll(removeTmpDirs);

const BIN = fileURLToPath(new URL("../../../bin/entk.js", import.meta.url));
/** Async spawn: the loopback server lives in this process and must keep answering. */
const entk = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((ok) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

const COMMIT = "e".repeat(40);
let hub: Awaited<ReturnType<typeof serveHub>>;
beforeAll(async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  hub = await serveHub({
    "org/tiny": {
      commit: COMMIT,
      files: {
        "config.json": enc(JSON.stringify(tinyConfigJson("roberta"))),
        "model.safetensors": handSafetensors(rawF32(tinyTensors("roberta"))),
        "tokenizer.json": enc("{}"),
      },
    },
  });
});
afterAll(async () => {
  await hub?.close();
});

describe("entk model pull", () => {
  it("pulls into HF_HUB_CACHE from HF_ENDPOINT, then works offline; offline miss is a clear error", async () => {
    const cache = tmpDir("entk-clicache-");
    const env = { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: "" };
    const r = await entk(env, "model", "pull", "org/tiny");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(join(cache, "models--org--tiny", "snapshots", COMMIT));
    expect(r.stderr).toMatch(/3 file\(s\) downloaded/);
    // Offline the snapshot resolves from the cache; its tokenizer.json here is "{}", which `model info` refuses.
    const off = await entk({ ...env, HF_HUB_OFFLINE: "1" }, "model", "info", "org/tiny", "--json");
    expect(off.code).toBe(1);
    expect(off.stderr).toContain(
      `${join(cache, "models--org--tiny", "snapshots", COMMIT)}: the tokenizer is not usable`,
    );
    const miss = await entk(env, "model", "pull", "org/other", "--offline");
    expect(miss.code).toBe(1);
    expect(miss.stderr).toMatch(/^entk: org\/other@main: not in the Hugging Face cache/);
  });
});
