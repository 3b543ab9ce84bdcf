import type { Reporter, TestCase, TestModule, TestSuite } from "vitest/node";
import type { SharedDataVar } from "./helpers/shared-data.ts";

/** The shared-data variable a test or one of its suites declared with `needs(...)` (test/helpers/shared-data.ts). */
function neededVar(test: TestCase): SharedDataVar | undefined {
  for (let t: TestCase | TestSuite | TestModule = test; t.type !== "module"; t = t.parent) {
    const v = t.meta().needsEnv;
    if (v) return v;
  }
  return undefined;
}

/**
 * Prints one line with how many tests were skipped for want of shared data and which variables run them (only
 * when some were), then one plain closing line, "Tests: N passed, N failed, N skipped", that any CI log reader
 * understands.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const needing = new Map<SharedDataVar, number>();
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") count.passed++;
        else if (state === "failed") count.failed++;
        else {
          count.skipped++;
          const v = neededVar(test);
          // (A test skipped by a name filter while its variable is set is not skipped for want of data.)
          if (v && !process.env[v]) needing.set(v, (needing.get(v) ?? 0) + 1);
        }
      }
      if (mod.state() === "failed" && mod.children.size === 0) count.failed++;
    }
    if (needing.size > 0) {
      const n = [...needing.values()].reduce((a, b) => a + b, 0);
      const vars = [...needing].map(([v, k]) => `${v} (${k})`).join(", ");
      process.stdout.write(
        `\n${n} test${n === 1 ? "" : "s"} skipped: they need data the repository does not ship; set ${vars} to run them\n`,
      );
    }
    process.stdout.write(`\nTests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  }
}
