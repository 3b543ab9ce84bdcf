/**
 * Worker thread of the sliced contraction (src/kernels/slice-workers.ts): it receives one linear layer's factors in
 * a SharedArrayBuffer and a range of its slices (slice-graph.ts sliceAxes), packs and contracts that range with
 * single-threaded onnxruntime sessions, and posts back the per-group kernels of the range.
 */
import { parentPort } from "node:worker_threads";
import type { ExampleGradFactors } from "../model/grad-factors.ts";
import { serialized } from "../util/serial.ts";
import { contractSliced, packSliced, ScratchPool } from "./slice-graph.ts";
import type { SliceTask, SliceTaskResult } from "./slice-workers.ts";

const pool = new ScratchPool();

/** The task's examples as one-layer factor views into the shared buffer (nothing is copied here). */
function examples(t: SliceTask): ExampleGradFactors[][] {
  const f = new Float32Array(t.buf);
  return t.groups.map((g) =>
    g.map(([T, x, d]) => ({
      C: t.C,
      linears: [
        {
          weight: "",
          T,
          dIn: t.dIn,
          dOut: t.dOut,
          X: f.subarray(x, x + T * t.dIn),
          delta: f.subarray(d, d + t.C * T * t.dOut),
        },
      ],
      dense: [],
      sparse: [],
      zero: [],
    })),
  );
}

// Tasks run one after another, since they share the packing pool (slice-workers.ts sends one layer at a time, but
// a task must not start packing while an earlier one awaits onnxruntime).
const run = serialized(async (t: SliceTask): Promise<SliceTaskResult> => {
  pool.reset();
  const blocks = examples(t).map((g) => packSliced(g, 0, t.C, t.s, pool, t.range));
  const kernels = await contractSliced(
    blocks.slice(0, t.trainGroups),
    blocks.slice(t.trainGroups),
    t.C,
    t.dIn,
    t.dOut,
    t.s,
    t.pairs,
    t.range,
    1,
  );
  return { id: t.id, kernels };
});

parentPort?.on("message", (t: SliceTask) => {
  run(t).then(
    (r) => parentPort?.postMessage(r),
    (e: unknown) =>
      parentPort?.postMessage({ id: t.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
