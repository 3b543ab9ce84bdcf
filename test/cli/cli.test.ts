import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));

function entk(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("entk CLI shell", () => {
  it("--help lists the env command and exits 0", () => {
    const r = entk("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: entk/);
    expect(r.stdout).toMatch(/\benv\b/);
  });

  it("env --json reports versions, providers, threads, memory and the HF cache", () => {
    const r = entk("env", "--json");
    expect(r.code).toBe(0);
    const env = JSON.parse(r.stdout);
    expect(env.entk).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.node).toBe(process.versions.node);
    expect(env.onnxruntime).toMatch(/^1\.\d+\.\d+/);
    const byDevice = Object.fromEntries(env.providers.map((p: { device: string }) => [p.device, p]));
    expect(Object.keys(byDevice).sort()).toEqual(["cpu", "cuda", "webgpu"]);
    expect(byDevice.cpu.usable).toBe(true);
    for (const p of env.providers) if (!p.usable) expect(p.reason).toEqual(expect.any(String));
    expect(env.threads).toBeGreaterThan(0);
    expect(env.memory.total_bytes).toBeGreaterThanOrEqual(env.memory.free_bytes);
    expect(env.hf_cache).toMatch(/hub$/);
  });

  it("the command's #! line asks glibc's malloc for huge pages; a GLIBC_TUNABLES of the user's wins", () => {
    // Executed as a program (the kernel reads the #! line), as npx and a shell run it; not `node bin/entk.js`.
    const run = (env: NodeJS.ProcessEnv) => {
      const r = spawnSync(BIN, ["env", "--json"], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, ...env },
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout).huge_pages;
    };
    expect(run({ GLIBC_TUNABLES: "" }).malloc).toBe(true);
    expect(run({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }).malloc).toBe(false);
  });

  it("honours HF_HUB_CACHE and HF_HOME for the cache directory", async () => {
    const { hfHubCacheDir } = await import("../../src/util/hf-cache.ts");
    expect(hfHubCacheDir({ HF_HUB_CACHE: "/x/cache" })).toBe("/x/cache");
    expect(hfHubCacheDir({ HF_HOME: "/h" })).toBe("/h/hub");
    expect(hfHubCacheDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/huggingface/hub");
  });

  it("an unknown command exits 2 with a clear message", () => {
    const r = entk("frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it("an unknown flag exits 2 with a clear message", () => {
    const r = entk("env", "--nope");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--nope'/);
  });
});
