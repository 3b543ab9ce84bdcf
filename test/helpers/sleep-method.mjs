/**
 * A model-free method for tests of the sweep machinery (resume, sharding, SIGKILL, SIGINT): `{kind: sleep, ms,
 * variants, fail}` waits `ms` (honouring Ctrl-C), then returns one record per `variant` grid point with metrics
 * derived from the job key, so an interrupted-and-resumed sweep must reproduce them exactly. It is no part of entk:
 * tests register it in process (registerMethodModule) or name this file in ENTK_METHOD_MODULES for the CLI
 * (src/experiments/method-modules.ts). Plain JavaScript, so the built CLI (dist/) can import it as it is.
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

/** A deterministic number in [0.5, 1) from a string: fake but reproducible metrics. */
function fakeMetric(seed) {
  return 0.5 + Number.parseInt(createHash("sha256").update(seed).digest("hex").slice(0, 8), 16) / 2 ** 33;
}

/** @type {import("../../src/experiments/method-modules.ts").MethodModule} */
const sleepMethod = {
  kind: "sleep",
  keys: ["ms", "variants", "fail"],
  positional: ["ms"],
  validate: (_entry, check) => ({
    ms: check.num("ms", { int: true, min: 0 }),
    variants: check.num("variants", { int: true, min: 1, dflt: 1 }),
    fail: check.bool("fail", false),
  }),
  expand: (e) => [
    {
      method: `sleep:${e.ms}`,
      hyperparameters: e.fail ? { fail: true } : {},
      grid: { variant: Array.from({ length: Number(e.variants) }, (_, i) => i) },
    },
  ],
  executor: async (job, ctx) => {
    const ms = Number(job.method.split(":")[1] ?? 0);
    await sleep(ms, undefined, { signal: ctx.signal });
    if (job.hyperparameters.fail === true) throw new Error(`sleep job ${job.key} failed on purpose (fail: true)`);
    return (job.grid.variant ?? [0]).map((variant) => {
      const s = `${job.key}|${JSON.stringify({ variant })}`;
      const m = (split) => ({ acc: fakeMetric(`${s}|${split}|acc`), f1: fakeMetric(`${s}|${split}|f1`) });
      return ctx.record({ hyperparameters: { variant }, dev: m("dev"), test: m("test"), weightsHash: "none" });
    });
  },
};

export default sleepMethod;
