/**
 * Running entk graphs on onnxruntime-node: one InferenceSession per graph signature (cached), the execution
 * provider chosen by `device` (checked with probeProvider so an unavailable one fails with a reason and a fix),
 * and intra-op threads configurable.
 */
import { randomBytes } from "node:crypto";
import { accessSync, constants, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Graph, Locate } from "../graph/graph.ts";
import type { Tensor } from "../graph/tensor.ts";
import { DEVICES, type Device, defaultThreads, probeProvider } from "./providers.ts";

export interface RuntimeOptions {
  device?: Device;
  /** Intra-op threads (default: every core). */
  threads?: number;
  /**
   * ORT graph optimizations: "all" (default) also fuses LayerNorm/GELU patterns into contrib kernels; float64
   * check graphs use "basic" (constant folding only) so that they run exactly the ops entk wrote.
   */
  optimization?: "basic" | "all";
  /**
   * Let idle intra-op threads spin-wait for work (ORT's default) instead of sleeping. Default false: entk shares
   * the CPU with other jobs (parallel sweeps, other processes), and there spinning threads steal cycles from the
   * ones doing work — measured 9% (forward) to 30% (Jacobian graph) slower under load ≈ 5 on 2 cores. On an
   * otherwise idle machine spinning may save a little wake-up latency.
   */
  spinning?: boolean;
  /**
   * ORT's memory pattern (default true): per input shape, plan all intermediates as one block and cache that plan.
   * Graphs run with ever-changing shapes (length-sorted batches) fill the arena with blocks of every shape seen;
   * false allocates tensor by tensor from the arena instead — measured on the roberta-base factors graph over
   * SST-2 batches: peak RSS 4.45 GB instead of 5.64 GB, same speed.
   */
  memPattern?: boolean;
}

/** A graph ready to serialize: the model bytes and the files its external initializers point into. */
export interface ModelBytes {
  /** Build the ModelProto; `locate(path)` maps an external-data file to the location to write (null: inline). */
  build(locate: Locate): Uint8Array;
  /** Absolute paths of every file referenced as external data (empty when all weights are inline). */
  externalFiles: string[];
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();
const checkedDevices = new Map<Device, Promise<void>>();

/**
 * Fail unless `device` can run a session here (probed once per process): an unknown device, or one whose provider
 * is missing, is an error with the reason and how to get it. Callers may run it up front, before any work.
 */
export async function checkDevice(device: Device): Promise<void> {
  if (!DEVICES.includes(device)) throw new Error(`unknown device '${device}' (expected one of ${DEVICES.join(", ")})`);
  let p = checkedDevices.get(device);
  if (!p) {
    p = probeProvider(device).then((s) => {
      if (!s.usable) throw new Error(`device '${device}' is not available: ${s.reason}`);
    });
    checkedDevices.set(device, p);
  }
  return p;
}

function sessionOptions(opts: RuntimeOptions): ort.InferenceSession.SessionOptions {
  const threads = opts.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  return {
    executionProviders: [opts.device ?? "cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: opts.optimization ?? "all",
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: opts.spinning ? "1" : "0" } } },
    enableMemPattern: opts.memPattern ?? true,
  };
}

/**
 * ORT only accepts external data by a path relative to the model file that stays inside the model's directory
 * (after resolving symlinks, which Hugging Face cache snapshots use). So the model is written, briefly, next to
 * the real weight file, loaded, and removed.
 */
async function createSession(model: ModelBytes, opts: RuntimeOptions): Promise<ort.InferenceSession> {
  const so = sessionOptions(opts);
  if (model.externalFiles.length === 0)
    return ort.InferenceSession.create(
      model.build((p) => p),
      so,
    );
  const real = new Map(model.externalFiles.map((f) => [f, realpathSync(f)]));
  const dirs = new Set([...real.values()].map((r) => dirname(r)));
  if (dirs.size !== 1)
    throw new Error(`external weight files must lie in one directory (after resolving links): ${[...dirs].join(", ")}`);
  const dir = [...dirs][0];
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(
      `cannot reference weights in place: directory ${dir} is not writable (entk writes a temporary model file there)`,
    );
  }
  const tmp = join(dir, `.entk-${process.pid}-${randomBytes(6).toString("hex")}.onnx`);
  writeFileSync(
    tmp,
    model.build((p) => basename(real.get(p) ?? realpathSync(p))),
  );
  try {
    return await ort.InferenceSession.create(tmp, so);
  } finally {
    unlinkSync(tmp);
  }
}

/** The cached session for `key` (a graph signature); built on first use. */
export async function getSession(
  key: string,
  model: () => ModelBytes,
  opts: RuntimeOptions = {},
): Promise<ort.InferenceSession> {
  const device = opts.device ?? "cpu";
  await checkDevice(device);
  const full = `${key}|${device}|${opts.threads ?? defaultThreads()}|${opts.optimization ?? "all"}|${opts.spinning ?? false}|${opts.memPattern ?? true}`;
  let s = sessions.get(full);
  if (!s) {
    s = createSession(model(), opts);
    sessions.set(full, s);
    s.catch(() => sessions.delete(full));
  }
  return s;
}

/**
 * The runtime options of a model's sessions: ORT's "basic" optimizations for float64 graphs (they run exactly the
 * ops entk wrote, see RuntimeOptions.optimization), "all" otherwise; `memPattern` false for graphs fed batches of
 * ever-changing shapes (RuntimeOptions.memPattern).
 */
export function modelRuntime(
  opts: Pick<RuntimeOptions, "device" | "threads" | "spinning">,
  dtype: "float32" | "float64",
  memPattern?: boolean,
): RuntimeOptions {
  return {
    device: opts.device,
    threads: opts.threads,
    spinning: opts.spinning,
    optimization: dtype === "float64" ? "basic" : "all",
    ...(memPattern === undefined ? {} : { memPattern }),
  };
}

/** The cached session (getSession) of a built graph: its outputs, and the weight files it references in place. */
export function graphSession(
  key: string,
  g: { graph: Graph; outputs: Tensor[]; externalFiles?: string[] },
  rt: RuntimeOptions,
): Promise<ort.InferenceSession> {
  return getSession(
    key,
    () => ({ build: (locate) => g.graph.toModel(g.outputs, locate), externalFiles: g.externalFiles ?? [] }),
    rt,
  );
}

/** Release every cached session (tests, long-running processes switching models). */
export async function releaseSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) await (await s.catch(() => undefined))?.release();
}

export type Feed = ort.Tensor;
export { ort };
