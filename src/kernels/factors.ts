import type { ExampleGradFactors, LinearFactor } from "../model/grad-factors.ts";
import type { FactorBlock } from "./ort-graphs.ts";

/** Check that every example has the structure of the first (same C, same tensors in the same order). */
export function checkStructure(ref: ExampleGradFactors, ex: ExampleGradFactors, where: string): void {
  const fail = (what: string) => {
    throw new Error(`${where}: gradient factors differ from the first train example: ${what}`);
  };
  if (ex.C !== ref.C) fail(`C = ${ex.C}, expected ${ref.C}`);
  if (ex.linears.length !== ref.linears.length)
    fail(`${ex.linears.length} linear layers, expected ${ref.linears.length}`);
  ex.linears.forEach((l, i) => {
    const r = ref.linears[i];
    if (l.weight !== r.weight || l.bias !== r.bias || l.dIn !== r.dIn || l.dOut !== r.dOut)
      fail(`linear #${i} is ${l.weight} [${l.dOut}, ${l.dIn}], expected ${r.weight} [${r.dOut}, ${r.dIn}]`);
    if (l.X.length !== l.T * l.dIn || l.delta.length !== ex.C * l.T * l.dOut)
      fail(`linear ${l.weight}: X or delta length does not match T = ${l.T}`);
  });
  if (ex.dense.length !== ref.dense.length || ex.dense.some((d, i) => d.param !== ref.dense[i].param))
    fail("dense parameter list");
  if (ex.sparse.length !== ref.sparse.length || ex.sparse.some((d, i) => d.param !== ref.sparse[i].param))
    fail("sparse parameter list");
}

/** Bytes held by one example's factors (arrays shared between layers, e.g. q/k/v inputs, counted once). */
export function factorBytes(ex: ExampleGradFactors): number {
  const seen = new Set<Float32Array>();
  let n = 0;
  const add = (a: Float32Array) => {
    if (!seen.has(a)) {
      seen.add(a);
      n += a.byteLength;
    }
  };
  for (const l of ex.linears) {
    add(l.X);
    add(l.delta);
  }
  for (const d of ex.dense) add(d.values);
  for (const s of ex.sparse) {
    add(s.values);
    n += s.rows.byteLength;
  }
  return n;
}

/**
 * Bytes the examples actually keep alive: each distinct underlying buffer once. Factors from the engine are views
 * into its padded per-batch outputs, so this exceeds the sum of `factorBytes` by the padding.
 */
export function retainedBytes(exs: readonly ExampleGradFactors[]): number {
  const seen = new Set<ArrayBufferLike>();
  let n = 0;
  const add = (a: Float32Array | Int32Array) => {
    if (!seen.has(a.buffer)) {
      seen.add(a.buffer);
      n += a.buffer.byteLength;
    }
  };
  for (const ex of exs) {
    for (const l of ex.linears) {
      add(l.X);
      add(l.delta);
    }
    for (const d of ex.dense) add(d.values);
    for (const s of ex.sparse) {
      add(s.values);
      add(s.rows);
    }
  }
  return n;
}

/** The longest sequence among the examples' linear factors (0 when there are none). */
export function maxTokens(exs: readonly ExampleGradFactors[]): number {
  let t = 0;
  for (const ex of exs) for (const l of ex.linears) t = Math.max(t, l.T);
  return t;
}

/**
 * Zero-padded block of one linear layer for examples `exs`, output rows [s0, s1): D [N, C, T, s1−s0], X [N, T, dIn].
 * Padded tokens get zero cotangent and zero input, so they add nothing (KERNELS.md §3).
 */
export function packLinear(
  exs: readonly ExampleGradFactors[],
  l: number,
  s0: number,
  s1: number,
  C: number,
): FactorBlock {
  const first: LinearFactor = exs[0].linears[l];
  const { dIn, dOut } = first;
  let T = 1;
  for (const ex of exs) T = Math.max(T, ex.linears[l].T);
  const s = s1 - s0;
  const N = exs.length;
  const D = new Float32Array(N * C * T * s);
  const X = new Float32Array(N * T * dIn);
  exs.forEach((ex, n) => {
    const f = ex.linears[l];
    X.set(f.X, n * T * dIn);
    for (let c = 0; c < C; c++)
      for (let t = 0; t < f.T; t++) {
        const src = (c * f.T + t) * dOut;
        D.set(f.delta.subarray(src + s0, src + s1), ((n * C + c) * T + t) * s);
      }
  });
  return { N, T, D, X };
}

/** ∂f_c/∂b = Σ_t Δ_c[t] for a linear layer's bias: [C, dOut]. */
export function biasGrad(f: LinearFactor, C: number): Float32Array {
  const out = new Float32Array(C * f.dOut);
  const acc = new Float64Array(f.dOut);
  for (let c = 0; c < C; c++) {
    acc.fill(0);
    for (let t = 0; t < f.T; t++) {
      const off = (c * f.T + t) * f.dOut;
      for (let k = 0; k < f.dOut; k++) acc[k] += f.delta[off + k];
    }
    out.set(acc, c * f.dOut);
  }
  return out;
}
