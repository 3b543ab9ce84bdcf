import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readNpy } from "../../src/util/npy.ts";
import { writeSyntheticKernelDir } from "./kernel-dir-fixture.ts";

const BIN = fileURLToPath(new URL("../../bin/entk.js", import.meta.url));
const entk = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const s = writeSyntheticKernelDir({ binary: false, numLabels: 3, n: { train: 6, dev: 6, test: 5 }, d: 10 });
afterAll(() => rmSync(s.dir, { recursive: true, force: true }));

describe("entk solve", () => {
  it("selects reg on dev, writes the result JSON and int32 predictions, prints a summary", () => {
    const r = entk("solve", "--kernels", s.dir, "--formula", "sgd", "--solver", "lstsq");
    expect(r.code).toBe(0);
    // P = 6·3 = 18 rows but features of dimension 10: rank 10, so the pseudo-inverse is used and reported.
    expect(r.stderr).toMatch(/^entk: warning: the 18×18 system is rank-deficient \(rank 10;/);
    const g = entk(
      "solve",
      "--kernels",
      s.dir,
      "--formula",
      "sgd",
      "--solver",
      "lstsq",
      "--reg-grid",
      "0,1e-6,1e-4,1e-2",
      "--select-on",
      "dev",
    );
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/sgd lstsq: dev acc \d\.\d{4}, test acc \d\.\d{4}; reg .* \(selected on dev\)/);
    const json = JSON.parse(readFileSync(join(s.dir, "results", "sgd.lstsq.json"), "utf8"));
    expect(json.grid).toHaveLength(4);
    expect([0, 1e-6, 1e-4, 1e-2]).toContain(json.hyperparameters.reg);
    for (const split of ["dev", "test"]) {
      const p = readNpy(join(s.dir, "results", `sgd.lstsq.predictions.${split}.npy`));
      expect(p.dtype).toBe("int32");
      expect(p.shape).toEqual([s.n[split]]);
    }
  });

  it("usage errors exit 2; data errors exit 1 with `entk: message` naming the file", () => {
    const base = ["solve", "--kernels", s.dir, "--formula", "sgd"];
    expect(entk(...base, "--solver", "ridge").code).toBe(2);
    expect(entk(...base, "--solver", "lstsq", "--reg", "abc").code).toBe(2);
    const both = entk(...base, "--solver", "lstsq", "--reg", "0.1", "--reg-grid", "0,1");
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/mutually exclusive/);
    expect(entk(...base, "--solver", "lstsq", "--reg-grid", "0,1").stderr).toMatch(/need --select-on dev/);
    expect(entk(...base, "--solver", "asym", "--lambda", "0,1").stderr).toMatch(/need --select-on dev/);
    expect(entk(...base, "--solver", "lstsq", "--lambda", "0.5").code).toBe(2);
    const svc = entk(...base, "--solver", "svc", "--adjust-for-init");
    expect(svc.code).toBe(1);
    expect(svc.stderr).toMatch(/^entk: the svc solver does not support --adjust-for-init/);
    const missing = entk("solve", "--kernels", join(s.dir, "absent"), "--formula", "sgd", "--solver", "lstsq");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/absent\/meta\.json: missing/);
  });
});
