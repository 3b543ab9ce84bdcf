import { ADAMW_WASM } from "./adamw-wasm.ts";

/** AdamW's constants for one step and one parameter (see AdamW in ../optimizers.ts). */
export interface AdamStep {
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  stepSize: number;
  eps: number;
  decay: number;
}

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  adamw(
    p: number,
    m: number,
    v: number,
    g: number,
    n: number,
    b1: number,
    b2: number,
    c1: number,
    c2: number,
    s: number,
    eps: number,
    d: number,
  ): void;
  decay(p: number, n: number, d: number): void;
}

/** The WebAssembly API this file uses (Node's global; the project's TypeScript libs do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: unknown } };
  }
).WebAssembly;
let compiled: object | undefined;

/** Elements per chunk by default: the five staging arrays (1.25 MiB in all) stay in the core's cache. */
export const DEFAULT_CHUNK = 1 << 16;

/**
 * AdamW's element update (adamw.wat, float32, SIMD) over JavaScript arrays. The arrays are staged through the
 * module's memory a chunk at a time (copies run near memory speed; the SIMD update is ≈ 3× the scalar JavaScript
 * loop), so parameters and moments stay ordinary Float32Arrays that ORT and snapshots use directly.
 */
export class AdamWKernel {
  private readonly ex: Exports;
  private readonly heap: Float32Array;
  constructor(readonly chunk = DEFAULT_CHUNK) {
    if (!(Number.isInteger(chunk) && chunk >= 4 && chunk % 4 === 0))
      throw new Error(`AdamWKernel: chunk must be a positive multiple of 4, got ${chunk}`);
    compiled ??= new wasm.Module(Buffer.from(ADAMW_WASM, "base64"));
    this.ex = new wasm.Instance(compiled).exports as unknown as Exports;
    // Five regions of `chunk` floats: p, m, v, g and a region of zeros (the gradient of rows without one).
    const bytes = 5 * 4 * chunk;
    const have = this.ex.memory.buffer.byteLength;
    if (bytes > have) this.ex.memory.grow(Math.ceil((bytes - have) / 65536));
    this.heap = new Float32Array(this.ex.memory.buffer);
  }

  /** One AdamW step on p, m, v in place with gradient g (all the same length); g absent: a zero gradient. */
  step(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array | undefined, k: AdamStep): void {
    const n = p.length;
    if (m.length !== n || v.length !== n || (g && g.length !== n))
      throw new Error(`AdamWKernel: arrays of different lengths (${n}, ${m.length}, ${v.length}, ${g?.length})`);
    const c = this.chunk;
    const [P, M, V, G, Z] = [0, 1, 2, 3, 4].map((r) => r * c);
    const h = this.heap;
    for (let a = 0; a < n; a += c) {
      const b = Math.min(n, a + c);
      h.set(p.subarray(a, b), P);
      h.set(m.subarray(a, b), M);
      h.set(v.subarray(a, b), V);
      if (g) h.set(g.subarray(a, b), G);
      this.ex.adamw(4 * P, 4 * M, 4 * V, 4 * (g ? G : Z), b - a, k.b1, k.b2, k.c1, k.c2, k.stepSize, k.eps, k.decay);
      p.set(h.subarray(P, P + b - a), a);
      m.set(h.subarray(M, M + b - a), a);
      v.set(h.subarray(V, V + b - a), a);
    }
  }

  /** p ← p − d·p in float32: `step` with m = v = g = 0, which leaves the moments at 0. */
  decay(p: Float32Array, d: number): void {
    const c = this.chunk;
    const h = this.heap;
    for (let a = 0; a < p.length; a += c) {
      const b = Math.min(p.length, a + c);
      h.set(p.subarray(a, b), 0);
      this.ex.decay(0, b - a, d);
      p.set(h.subarray(0, b - a), a);
    }
  }
}
