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

/** Every array an example's factors hold (an array shared between layers, e.g. q/k/v inputs, comes once per use). */
function* factorArrays(ex: ExampleGradFactors): Generator<Float32Array | Int32Array> {
  for (const l of ex.linears) yield* [l.X, l.delta];
  for (const d of ex.dense) yield d.values;
  for (const s of ex.sparse) yield* [s.values, s.rows];
}

/** Sum of `bytes(key)` over distinct `key(a)` of the arrays. */
function distinctBytes<K>(
  arrays: Iterable<Float32Array | Int32Array>,
  key: (a: Float32Array | Int32Array) => K,
  bytes: (a: Float32Array | Int32Array) => number,
): number {
  const seen = new Set<K>();
  let n = 0;
  for (const a of arrays) {
    const k = key(a);
    if (!seen.has(k)) {
      seen.add(k);
      n += bytes(a);
    }
  }
  return n;
}

/** Bytes held by one example's factors (arrays shared between layers counted once). */
export function factorBytes(ex: ExampleGradFactors): number {
  return distinctBytes(
    factorArrays(ex),
    (a) => a,
    (a) => a.byteLength,
  );
}

/**
 * Bytes the examples actually keep alive: each distinct underlying buffer once. Factors from the engine are views
 * into its padded per-batch outputs, so this exceeds the sum of `factorBytes` by the padding.
 */
export function retainedBytes(exs: readonly ExampleGradFactors[]): number {
  return distinctBytes(
    exs.flatMap((ex) => [...factorArrays(ex)]),
    (a) => a.buffer,
    (a) => a.buffer.byteLength,
  );
}

/** The longest sequence among the examples' linear factors (0 when there are none). */
export function maxTokens(exs: readonly ExampleGradFactors[]): number {
  let t = 0;
  for (const ex of exs) for (const l of ex.linears) t = Math.max(t, l.T);
  return t;
}

/**
 * Zero-padded block of one linear layer for examples `exs`, output rows [s0, s1): D [N, C, T, s1−s0], X [N, T, dIn].
 * Padded tokens get zero cotangent and zero input, so they add nothing (docs/kernels.md §3).
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

/**
 * ∂f_c/∂b = Σ_t Δ_c[t] for a linear layer's bias, summed in float64, written for each c at
 * out[offset + c·stride] (dOut values).
 */
export function biasGradInto(f: LinearFactor, C: number, out: Float32Array, offset: number, stride: number): void {
  const acc = new Float64Array(f.dOut);
  for (let c = 0; c < C; c++) {
    acc.fill(0);
    for (let t = 0; t < f.T; t++) {
      const off = (c * f.T + t) * f.dOut;
      for (let k = 0; k < f.dOut; k++) acc[k] += f.delta[off + k];
    }
    out.set(acc, offset + c * stride);
  }
}
