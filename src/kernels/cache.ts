import { createHash } from "node:crypto";
import { readFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import type { ExampleGradFactors } from "../model/grad-factors.ts";
import { cleanStaleTemps, writeFileAtomic } from "../util/atomic.ts";
import type { Block } from "./block.ts";
import type { Pair } from "./ort-graphs.ts";
import { ARENA_FACTOR, type KernelPlan } from "./plan.ts";
import type { FactorSource, ParamFilter, Strategy } from "./types.ts";

type Arr = Float32Array | Float64Array | Int32Array;
const MAGIC = "ENTKBIN1";
const TYPES = { f32: Float32Array, f64: Float64Array, i32: Int32Array } as const;
type TypeName = keyof typeof TYPES;

function typeName(a: Arr): TypeName {
  return a instanceof Float32Array ? "f32" : a instanceof Float64Array ? "f64" : "i32";
}

export function sha256(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/**
 * A self-checking container: magic, header length, JSON header, 8-byte-aligned arrays, then the SHA-256 of all of
 * it. Written atomically; a file whose checksum does not match is treated as absent (never trusted).
 */
export function encodeContainer(header: object, arrays: readonly Arr[]): Uint8Array {
  const meta = { header, arrays: arrays.map((a) => ({ type: typeName(a), length: a.length })) };
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const pad = (n: number) => (8 - (n % 8)) % 8;
  let size = 8 + 4 + json.length + pad(12 + json.length);
  for (const a of arrays) size += a.byteLength + pad(a.byteLength);
  const buf = new Uint8Array(size + 32);
  buf.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buf.buffer).setUint32(8, json.length, true);
  buf.set(json, 12);
  let off = 12 + json.length + pad(12 + json.length);
  for (const a of arrays) {
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += a.byteLength + pad(a.byteLength);
  }
  buf.set(createHash("sha256").update(buf.subarray(0, size)).digest(), size);
  return buf;
}

/** Decode a container; undefined when the file is truncated, foreign or corrupt. */
export function decodeContainer(buf: Uint8Array): { header: unknown; arrays: Arr[] } | undefined {
  if (buf.length < 44 || new TextDecoder().decode(buf.subarray(0, 8)) !== MAGIC) return undefined;
  const size = buf.length - 32;
  const digest = createHash("sha256").update(buf.subarray(0, size)).digest();
  if (!digest.equals(buf.subarray(size))) return undefined;
  const len = new DataView(buf.buffer, buf.byteOffset).getUint32(8, true);
  const meta = JSON.parse(new TextDecoder().decode(buf.subarray(12, 12 + len))) as {
    header: unknown;
    arrays: { type: TypeName; length: number }[];
  };
  const pad = (n: number) => (8 - (n % 8)) % 8;
  let off = 12 + len + pad(12 + len);
  const arrays = meta.arrays.map(({ type, length }) => {
    const C = TYPES[type];
    const bytes = length * C.BYTES_PER_ELEMENT;
    // Copy (Buffer#slice would alias Node's shared pool) so the array is aligned and owns its memory.
    const a = new C(Uint8Array.prototype.slice.call(buf, off, off + bytes).buffer);
    off += bytes + pad(bytes);
    return a;
  });
  return { header: meta.header, arrays };
}

/**
 * A cache entry's bytes, touched (its time of last use, for `entk cache prune`'s LRU order); undefined when absent,
 * including when a concurrent prune removes it meanwhile.
 */
export function readCacheEntry(path: string): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // removed meanwhile or read-only: the data read is still whole (checked by its digest)
  }
  return buf;
}

export function readContainer(path: string): { header: unknown; arrays: Arr[] } | undefined {
  const buf = readCacheEntry(path);
  return buf && decodeContainer(buf);
}

/** Serialize one example's factors; arrays shared between layers (q/k/v inputs) are stored once. */
export function encodeFactors(ex: ExampleGradFactors): Uint8Array {
  const arrays: Arr[] = [];
  const index = new Map<Arr, number>();
  const ref = (a: Arr) => {
    let i = index.get(a);
    if (i === undefined) {
      i = arrays.push(a) - 1;
      index.set(a, i);
    }
    return i;
  };
  const header = {
    C: ex.C,
    zero: ex.zero,
    linears: ex.linears.map(({ X, delta, ...rest }) => ({ ...rest, X: ref(X), delta: ref(delta) })),
    dense: ex.dense.map(({ values, ...rest }) => ({ ...rest, values: ref(values) })),
    sparse: ex.sparse.map(({ rows, values, ...rest }) => ({ ...rest, rows: ref(rows), values: ref(values) })),
  };
  return encodeContainer(header, arrays);
}

export function decodeFactors(buf: Uint8Array): ExampleGradFactors | undefined {
  const c = decodeContainer(buf);
  if (!c) return undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the header is the JSON written by encodeFactors
  const h = c.header as any;
  const a = c.arrays;
  return {
    C: h.C,
    zero: h.zero,
    // biome-ignore lint/suspicious/noExplicitAny: as above
    linears: h.linears.map((l: any) => ({ ...l, X: a[l.X], delta: a[l.delta] })),
    // biome-ignore lint/suspicious/noExplicitAny: as above
    dense: h.dense.map((d: any) => ({ ...d, values: a[d.values] })),
    // biome-ignore lint/suspicious/noExplicitAny: as above
    sparse: h.sparse.map((s: any) => ({ ...s, rows: a[s.rows], values: a[s.values] })),
  };
}

/** Content hash of one example's factors (used as its cache key when the caller gives none). */
export function factorsKey(ex: ExampleGradFactors): string {
  return sha256(encodeFactors(ex));
}

/** Shared by the sources of one job: once the disk is full, no source writes again (one warning in all). */
export interface CacheWriteState {
  full: boolean;
  warn?: (message: string) => void;
}

/** True for errors meaning "no space left" (ENOSPC) or "over quota" (EDQUOT). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/**
 * Write a cache entry unless the disk filled up earlier in this job; a full disk turns writing off for the rest of
 * the job with one warning (the atomic write leaves no partial file behind). Other errors propagate.
 */
export async function writeCacheEntry(state: CacheWriteState, file: string, data: Uint8Array | string): Promise<void> {
  if (state.full) return;
  try {
    await writeFileAtomic(file, data);
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    state.full = true;
    state.warn?.(`warning: disk full writing ${file}; caching is off for the rest of this job`);
  }
}

/**
 * Wrap a keyed source so each example's factors are computed once and read from `<dir>/<key>.factors` afterwards
 * (e.g. the test set, identical for every seed, is differentiated once per task). Contiguous runs of missing
 * examples are computed together. A full disk stops the writing (see writeCacheEntry), not the job.
 */
export function cachedFactorSource(
  src: FactorSource,
  dir: string,
  state: CacheWriteState = { full: false },
): FactorSource & { hits: number } {
  const keys = src.keys;
  if (!keys) throw new Error("cachedFactorSource: the source has no per-example keys");
  const path = (i: number) => join(dir, `${keys[i]}.factors`);
  cleanStaleTemps(dir);
  const out = {
    size: src.size,
    tokens: src.tokens,
    keys,
    hits: 0,
    async load(start: number, end: number): Promise<ExampleGradFactors[]> {
      const res: (ExampleGradFactors | undefined)[] = [];
      for (let i = start; i < end; i++) {
        const buf = readCacheEntry(path(i));
        const f = buf && decodeFactors(buf);
        if (f) out.hits++;
        res.push(f);
      }
      for (let i = 0; i < res.length; ) {
        if (res[i]) {
          i++;
          continue;
        }
        let j = i;
        while (j < res.length && !res[j]) j++;
        const got = await src.load(start + i, start + j);
        for (let k = i; k < j; k++) {
          res[k] = got[k - i];
          await writeCacheEntry(state, path(start + k), encodeFactors(got[k - i]));
        }
        i = j;
      }
      return res as ExampleGradFactors[];
    },
  };
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Kernel blocks and run manifests of computeKernels (src/kernels/compute.ts).

/** One cached kernel block; undefined when absent, corrupt or computed for other pairs. */
export function readBlock(file: string, pairs: readonly Pair[]): Block | undefined {
  const c = readContainer(file);
  if (!c) return undefined;
  const stored = (c.header as { pairs: Pair[] }).pairs;
  if (JSON.stringify(stored) !== JSON.stringify(pairs)) return undefined;
  return Object.fromEntries(pairs.map((p, i) => [p, c.arrays[i] as Float64Array]));
}

export async function writeBlock(
  file: string,
  pairs: readonly Pair[],
  block: Block,
  state: CacheWriteState = { full: false },
): Promise<void> {
  await writeCacheEntry(
    state,
    file,
    encodeContainer(
      { pairs },
      pairs.map((p) => block[p]!),
    ),
  );
}

/** What besides the examples decides a block's float32 partial sums (their order): part of its cache key. */
export type SumOrder = { trainBlock: number; workBytes: number; strategy: Strategy };

/** Where the block of these train and eval examples lives (a content address of everything it depends on). */
export function blockFile(
  dir: string,
  C: number,
  pairs: readonly Pair[],
  filter: ParamFilter,
  trainKeys: readonly string[],
  evalKeys: readonly string[],
  o: SumOrder,
): string {
  const order = { trainBlock: o.trainBlock, workBytes: o.workBytes, strategy: o.strategy };
  return join(
    dir,
    `${sha256(JSON.stringify({ v: 3, C, pairs, filter, order, train: trainKeys, eval: evalKeys }))}.kblock`,
  );
}

type StoredPlan = Pick<KernelPlan, "evalBlock" | "trainBlock" | "workBytes">;

/** Where a run's first plan is kept (keyed by its examples, like the manifest, but written before any block). */
export function planPath(
  dir: string,
  pairs: readonly Pair[],
  filter: ParamFilter,
  trainKeys: readonly string[],
  evalKeys: readonly { name: string; keys?: readonly string[] }[],
): string {
  return join(dir, `${sha256(JSON.stringify({ v: 1, pairs, filter, trainKeys, evalKeys }))}.plan.json`);
}

/** The block sizes a run stored when first planned, if they fit the budget of the plan made now (else undefined). */
export function readStoredPlan(path: string, now: KernelPlan): StoredPlan | undefined {
  let p: StoredPlan;
  try {
    p = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
  const ok = [p.evalBlock, p.trainBlock, p.workBytes].every((x) => Number.isInteger(x) && x > 0);
  if (!ok || !now.parts) return undefined;
  // Within the budget with the memory measured now: the plan's parts with the stored block and work sizes.
  const { baseline, train, reserve, evalBlock } = now.parts;
  const need = baseline + train + reserve + (evalBlock / now.evalBlock) * p.evalBlock + ARENA_FACTOR * p.workBytes;
  if (need > now.memoryBytes) return undefined;
  return { evalBlock: p.evalBlock, trainBlock: p.trainBlock, workBytes: p.workBytes };
}

export async function writeStoredPlan(path: string, plan: KernelPlan, state: CacheWriteState = { full: false }) {
  const { evalBlock, trainBlock, workBytes } = plan;
  await writeCacheEntry(state, path, JSON.stringify({ evalBlock, trainBlock, workBytes }));
}

/** A finished run: enough to reassemble its kernels from the cached blocks alone. */
export interface Manifest {
  v: 1;
  C: number;
  nTrain: number;
  evalBlock: number;
  sizes: Record<string, number>;
  plan: KernelPlan;
}

export type NamedSource = { name: string; src: FactorSource };

/** Where a whole run's manifest lives; undefined unless every source carries per-example keys. */
export function manifestPath(
  dir: string,
  train: FactorSource,
  evals: readonly NamedSource[],
  pairs: readonly Pair[],
  filter: ParamFilter,
): string | undefined {
  if (!train.keys || evals.some((e) => !e.src.keys)) return undefined;
  const ev = Object.fromEntries(evals.map((e) => [e.name, e.src.keys]));
  return join(dir, `${sha256(JSON.stringify({ v: 1, pairs, filter, train: train.keys, ev }))}.run.json`);
}

/** A run's manifest; undefined when absent or unreadable. */
export function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

export async function writeManifest(path: string, m: Manifest, state: CacheWriteState = { full: false }) {
  await writeCacheEntry(state, path, JSON.stringify(m));
}
