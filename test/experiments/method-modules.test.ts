import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseMethodSpec, validateSweepConfig } from "../../src/experiments/config.ts";
import { expandJobs } from "../../src/experiments/jobs.ts";
import { loadMethodModules, methodModule, methodModuleKinds } from "../../src/experiments/method-modules.ts";

const SLEEP = fileURLToPath(new URL("../helpers/sleep-method.mjs", import.meta.url));
const config = (methods: unknown[]) =>
  validateSweepConfig({ model: "m", data: "d", tasks: ["SST-2"], k: [16], seeds: [13, 21], out: "o", methods });

describe("method modules (ENTK_METHOD_MODULES)", () => {
  it("an unregistered kind is refused; loading the module makes configs, specs and jobs of its kind", async () => {
    expect(() => config([{ kind: "sleep", ms: 1 }])).toThrow(/methods\[0\]\.kind: expected one of .*got "sleep"/);
    await loadMethodModules({ ENTK_METHOD_MODULES: ` ${SLEEP} ,` });
    expect(methodModuleKinds()).toEqual(["sleep"]);
    const c = config([{ kind: "sleep", ms: 5, variants: 3 }]);
    expect(c.methods[0]).toEqual({ kind: "module", module: "sleep", entry: { ms: 5, variants: 3, fail: false } });
    const jobs = expandJobs(c);
    expect(jobs.map((j) => [j.method, j.seed, j.grid])).toEqual([
      ["sleep:5", 13, { variant: [0, 1, 2] }],
      ["sleep:5", 21, { variant: [0, 1, 2] }],
    ]);
    // A one-line spec takes the module's positional keys; validation names the key that is wrong.
    expect(parseMethodSpec("sleep:5:variants=3")).toEqual(c.methods[0]);
    expect(() => config([{ kind: "sleep", ms: -1 }])).toThrow(/methods\[0\]\.ms: expected an integer >= 0, got -1/);
    expect(() => config([{ kind: "sleep", ms: 1, speed: 2 }])).toThrow(/methods\[0\]\.speed: unknown key/);
    expect(methodModule("sleep")?.executor).toBeTypeOf("function");
  });

  it("a file that exports no method module is a clear error", async () => {
    const bad = join(mkdtempSync(join(tmpdir(), "entk-mm-")), "bad.mjs");
    writeFileSync(bad, "export const x = 1;\n");
    await expect(loadMethodModules({ ENTK_METHOD_MODULES: bad })).rejects.toThrow(
      /ENTK_METHOD_MODULES: .*bad\.mjs does not default-export a method module/,
    );
  });
});
