import { UPDATES_WASM } from "./updates-wasm.ts";

/** AdamW's constants for one step and one parameter (see AdamW in ../optimizers.ts). */
export interface AdamStep {
  /** The clipping scale, multiplied into the gradient (and rounded to float32) before anything else. */
  scale: number;
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  stepSize: number;
  eps: number;
  decay: number;
}

/** SGD's constants for one step and one parameter: clipping scale, weight decay, learning rate, sign (SignGD). */
export interface SgdStep {
  scale: number;
  wd: number;
  lr: number;
  sign: boolean;
}

type Ptr = number;
interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  adamw(p: Ptr, m: Ptr, v: Ptr, g: Ptr, n: number, ...k: number[]): void;
  decay(p: Ptr, n: number, d: number): void;
  sgd(p: Ptr, g: Ptr, n: number, c: number, wd: number, lr: number, sign: number): void;
}

/** The WebAssembly API this file uses (Node's global; the project's TypeScript libs do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: unknown } };
  }
).WebAssembly;
let compiled: object | undefined;

/** Elements per chunk by default: the five staging regions (1.25 MiB in all) stay in the core's cache. */
export const DEFAULT_CHUNK = 1 << 16;
/** Staging regions: up to four arrays of one update, and a region of zeros (the gradient of rows without one). */
const REGIONS = 5;
const ZERO = REGIONS - 1;

/**
 * The optimizers' element updates (updates.wat: float32, SIMD, ≈ 3× a scalar JavaScript loop) over JavaScript
 * arrays. Arrays are staged through the module's memory a chunk at a time, so parameters and moments stay ordinary
 * Float32Arrays that ORT and snapshots use directly; a missing gradient stands for zeros.
 */
export class SimdUpdates {
  private readonly ex: Exports;
  private readonly heap: Float32Array;
  constructor(readonly chunk = DEFAULT_CHUNK) {
    if (!(Number.isInteger(chunk) && chunk >= 4 && chunk % 4 === 0))
      throw new Error(`SimdUpdates: chunk must be a positive multiple of 4, got ${chunk}`);
    compiled ??= new wasm.Module(Buffer.from(UPDATES_WASM, "base64"));
    this.ex = new wasm.Instance(compiled).exports as Exports;
    const bytes = REGIONS * 4 * chunk;
    const have = this.ex.memory.buffer.byteLength;
    if (bytes > have) this.ex.memory.grow(Math.ceil((bytes - have) / 65536));
    this.heap = new Float32Array(this.ex.memory.buffer);
  }

  /** One AdamW step on p, m, v in place with gradient g (zeros when absent). */
  adamw(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array | undefined, k: AdamStep): void {
    this.staged([p, m, v, g], 3, ([P, M, V, G], n) =>
      this.ex.adamw(P, M, V, G, n, k.scale, k.b1, k.b2, k.c1, k.c2, k.stepSize, k.eps, k.decay),
    );
  }

  /** p ← p − d·p: `adamw` with m = v = g = 0, which leaves the moments at 0. */
  decay(p: Float32Array, d: number): void {
    this.staged([p], 1, ([P], n) => this.ex.decay(P, n, d));
  }

  /** One SGD / SignGD step on p in place with gradient g (zeros when absent). */
  sgd(p: Float32Array, g: Float32Array | undefined, k: SgdStep): void {
    this.staged([p, g], 1, ([P, G], n) => this.ex.sgd(P, G, n, k.scale, k.wd, k.lr, k.sign ? 1 : 0));
  }

  /**
   * Runs `kernel(byte offsets, count)` chunk by chunk over `arrays` (the same length; undefined: zeros), copying
   * each chunk into the module's memory and the first `written` arrays back.
   */
  private staged(
    arrays: (Float32Array | undefined)[],
    written: number,
    kernel: (ptrs: Ptr[], n: number) => void,
  ): void {
    const n = arrays[0]!.length;
    if (arrays.some((a) => a && a.length !== n))
      throw new Error(`SimdUpdates: arrays of different lengths (${arrays.map((a) => a?.length)})`);
    const c = this.chunk;
    const h = this.heap;
    const region = arrays.map((a, i) => (a ? i : ZERO) * c);
    const ptrs = region.map((r) => 4 * r);
    for (let a = 0; a < n; a += c) {
      const b = Math.min(n, a + c);
      arrays.forEach((x, i) => {
        if (x) h.set(x.subarray(a, b), region[i]);
      });
      kernel(ptrs, b - a);
      for (let i = 0; i < written; i++) arrays[i]!.set(h.subarray(region[i], region[i] + b - a), a);
    }
  }
}
