/**
 * The sliced contraction of one linear layer, in-process or spread over worker threads (docs/kernels.md §4.1).
 *
 * A layer's slices (slice-graph.ts sliceAxes) are independent, so with W workers each takes a contiguous range of
 * them and runs it with single-threaded onnxruntime sessions; the partial kernels are added in float64, in worker
 * order. On the 2-core machine six repetitions of one 768×768 layer (32 train × 96 eval, all four pairs) took
 * 0.66–0.76 s as two single-threaded workers with half the slices each, against 1.06 s in-process with two intra-op
 * threads, whose many small parallel sections spend their time waking and waiting for each other (issue 18).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ExampleGradFactors } from "../model/grad-factors.ts";
import { defaultThreads } from "../model/runtime/providers.ts";
import { serialized } from "../util/serial.ts";
import type { Pair } from "./ort-graphs.ts";
import {
  allSlices,
  contractSliced,
  type GroupKernels,
  packSliced,
  ScratchPool,
  type SliceRange,
} from "./slice-graph.ts";

/** Worker threads of the contraction unless a job says otherwise: one per core. */
export const defaultContractionWorkers = (): number => defaultThreads();

/** One worker's share of a layer: per group of examples, [T, X offset, Δ offset] in `buf` (floats). */
export interface SliceTask {
  id: number;
  buf: SharedArrayBuffer;
  groups: [number, number, number][][];
  trainGroups: number;
  C: number;
  dIn: number;
  dOut: number;
  s: number;
  pairs: Pair[];
  range: SliceRange;
}

export type SliceTaskResult = { id: number; kernels: GroupKernels } | { id: number; error: string };

interface Pending {
  resolve: (k: GroupKernels) => void;
  reject: (e: Error) => void;
}

/** A worker and its tasks in flight; it holds the process open only while it has some. */
class SliceWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  dead = false;

  constructor() {
    this.worker = spawn();
    this.worker.unref();
    this.worker.on("message", (r: SliceTaskResult) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if ("error" in r) p.reject(new Error(`kernel contraction worker: ${r.error}`));
      else p.resolve(r.kernels);
    });
    const fail = (e: Error) => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`kernel contraction worker exited (code ${code})`)));
  }

  run(task: SliceTask): Promise<GroupKernels> {
    return new Promise((resolve, reject) => {
      this.pending.set(task.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(task);
    });
  }
}

/**
 * The worker's module beside this one: compiled JavaScript in dist/, or, when entk runs from its TypeScript sources
 * (tsx, vitest), the .ts file loaded through tsx's loader, which a worker does not inherit.
 */
function spawn(): Worker {
  const ts = import.meta.url.endsWith(".ts");
  const url = new URL(`./slice-worker.${ts ? "ts" : "js"}`, import.meta.url);
  if (!ts) return new Worker(url);
  // tsx's ESM API by absolute URL (a data: module has no folder to resolve a package name from).
  const req = createRequire(import.meta.url);
  const pkg = req.resolve("tsx/package.json");
  const api = pathToFileURL(join(dirname(pkg), req("tsx/package.json").exports["./esm/api"].import.default)).href;
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
}

const workers: SliceWorker[] = [];
let nextId = 0;
/** The shared buffer a layer's factors are copied into, reused from layer to layer (grown as needed). */
let shared: SharedArrayBuffer | undefined;
const pool = new ScratchPool();

function workerPool(n: number): SliceWorker[] {
  for (let i = 0; i < workers.length; i++) if (workers[i].dead) workers[i] = new SliceWorker();
  while (workers.length < n) workers.push(new SliceWorker());
  return workers.slice(0, n);
}

/** Copy layer l of every group's examples into the shared buffer; returns the per-example [T, X, Δ] offsets. */
function share(groups: readonly (readonly ExampleGradFactors[])[], l: number, C: number): [number, number, number][][] {
  let floats = 0;
  for (const g of groups) for (const ex of g) floats += ex.linears[l].T * (ex.linears[l].dIn + C * ex.linears[l].dOut);
  if (!shared || shared.byteLength < 4 * floats)
    shared = new SharedArrayBuffer(4 * Math.max(floats, Math.ceil(((shared?.byteLength ?? 0) / 4) * 1.25)));
  const f = new Float32Array(shared);
  let off = 0;
  return groups.map((g) =>
    g.map((ex) => {
      const { T, dIn, dOut, X, delta } = ex.linears[l];
      const x = off;
      f.set(X.subarray(0, T * dIn), x);
      const d = x + T * dIn;
      f.set(delta.subarray(0, C * T * dOut), d);
      off = d + C * T * dOut;
      return [T, x, d];
    }),
  );
}

/**
 * Layer l of the train groups against the eval groups (slicedLayout's cut, slices `s` wide): per eval group, each
 * pair's kernel summed over all slices in float64. `workers` ≤ 1 runs in-process with all intra-op threads; more
 * spread the slices over that many single-threaded worker threads. One layer at a time per process: the packing
 * pool and the shared buffer are reused from call to call.
 */
export const contractLayer = serialized(contract);

async function contract(
  trainGroups: readonly (readonly ExampleGradFactors[])[],
  evalGroups: readonly (readonly ExampleGradFactors[])[],
  l: number,
  C: number,
  s: number,
  pairs: readonly Pair[],
  workers: number,
): Promise<GroupKernels> {
  const { dIn, dOut } = trainGroups[0][0].linears[l];
  const nSlices = allSlices(dIn, dOut, s)[1];
  const W = Math.min(workers, nSlices);
  if (W <= 1) {
    pool.reset();
    const pack = (g: readonly ExampleGradFactors[]) => packSliced(g, l, C, s, pool);
    return contractSliced(trainGroups.map(pack), evalGroups.map(pack), C, dIn, dOut, s, pairs);
  }
  const groups = share([...trainGroups, ...evalGroups], l, C);
  // Every worker has finished with the shared buffer before this call settles, even when one of them failed.
  const settled = await Promise.allSettled(
    workerPool(W).map((w, i) =>
      w.run({
        id: nextId++,
        buf: shared!,
        groups,
        trainGroups: trainGroups.length,
        C,
        dIn,
        dOut,
        s,
        pairs: [...pairs],
        range: [Math.floor((i * nSlices) / W), Math.floor(((i + 1) * nSlices) / W)],
      }),
    ),
  );
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const [sum, ...rest] = settled.map((r) => (r as PromiseFulfilledResult<GroupKernels>).value);
  for (const part of rest)
    part.forEach((byPair, g) => {
      for (const [p, k] of Object.entries(byPair) as [Pair, Float64Array][]) {
        const acc = sum[g][p]!;
        for (let i = 0; i < k.length; i++) acc[i] += k[i];
      }
    });
  return sum;
}
