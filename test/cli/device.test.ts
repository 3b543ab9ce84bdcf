/**
 * Issue 19 item 7: `--device` naming a provider that cannot run here fails at once with one clear line on stderr
 * (what is missing and how to get it), exit 1 — none of what the provider's native libraries print while failing
 * (Dawn's Vulkan warning with its C++ source location, ORT's coloured logger line).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { probeProvider } from "../../src/model/runtime/providers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(root, "bin/entk.js");
const tmp = mkdtempSync(join(tmpdir(), "entk-device-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const split = join(tmp, "split");
mkdirSync(split);
for (const s of ["train", "dev", "test"])
  writeFileSync(join(split, `${s}.tsv`), "sentence\tlabel\ngood movie\t1\nbad movie\t0\n");

function entk(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What native code prints: ANSI colours (ORT's logger), C++ source locations, ORT's build paths. */
const NATIVE = new RegExp(
  `${String.fromCharCode(27)}\\[|\\.(cc|cpp|h):\\d+|onnxruntime_src|at operator\\(\\)|^Warning:`,
  "m",
);

describe("--device with a provider that cannot run here", () => {
  for (const device of ["cuda", "webgpu"] as const) {
    it(`${device}: one line on stderr, exit 1, before any work (or runs, where it is usable)`, async () => {
      const status = await probeProvider(device);
      const out = join(tmp, `k-${device}`);
      const r = entk(
        ...["kernel", "--model", "models/tiny-roberta", "--task", "GLUE-SST-2", "--split-dir", split],
        ...["--formulas", "sgd", "--out", out, "--no-cache", "--device", device],
      );
      if (status.usable) {
        expect(r.code, r.stderr).toBe(0);
        return;
      }
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(NATIVE);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^entk: device '${device}' is not available: \\S.* — \\S`));
      // Checked before the run started: no progress line, no output directory.
      expect(r.stderr).not.toMatch(/^disk:/m);
    });
  }

  it("entk env reports every provider without writing to stderr", () => {
    const r = entk("env");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^ {2}webgpu {3}(yes|no: \S)/m);
    expect(r.stdout).not.toMatch(NATIVE);
  });
});
