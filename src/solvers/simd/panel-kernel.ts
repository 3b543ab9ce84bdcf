import { PANEL_WASM } from "./panel-wasm.ts";

/** panel.wat's exports: `panel4` computes C[r, c] −= Σ_{k<len} A[r, k]·B[c, k] for r < rows, c < 4 (byte pointers). */
interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  panel4(a: number, lda: number, rows: number, b: number, ldb: number, len: number, c: number, ldc: number): void;
}

/** The WebAssembly API this file uses (Node's global; the project's TypeScript libs do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: unknown } };
  }
).WebAssembly;
let instance: Exports | undefined;

export interface PanelKernel {
  panel4: Exports["panel4"];
  /** The module's whole memory as float64 (element e is at byte 8e); valid until the next `panelKernel` call. */
  heap: Float64Array;
}

/**
 * The panel kernel with at least `elements` float64 of memory (one instance, grown as needed and kept). Callers
 * stage their matrices in `heap`, call `panel4` with byte offsets, and copy the results out before returning.
 */
export function panelKernel(elements: number): PanelKernel {
  if (!instance) instance = new wasm.Instance(new wasm.Module(Buffer.from(PANEL_WASM, "base64"))).exports as Exports;
  const mem = instance.memory;
  const bytes = 8 * elements;
  if (bytes > 2 ** 32) throw new Error(`panelKernel: ${elements} float64 exceed WebAssembly's 4 GiB memory`);
  if (mem.buffer.byteLength < bytes) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / 65536));
  return { panel4: instance.panel4, heap: new Float64Array(mem.buffer) };
}
