import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A sweep's merged results without the run-dependent fields (times, machine), sorted: comparable across runs. */
export const sweepResults = (out: string) =>
  readFileSync(join(out, "results.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .map((r) => ({ key: r.key, method: r.method, h: r.hyperparameters, dev: r.dev, test: r.test }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
