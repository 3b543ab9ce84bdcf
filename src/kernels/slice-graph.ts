import type * as ort from "onnxruntime-node";
import type { ExampleGradFactors } from "../model/grad-factors.ts";
import {
  concat,
  encode,
  FLOAT,
  f32,
  gemmsFor,
  gemmT,
  INT64,
  i64,
  type Node,
  type Pair,
  SIGN_INITS,
  SIGN_PRESCALE,
  session,
  signNodes,
  valueInfo,
  variants,
} from "./ort-graphs.ts";

/**
 * Reused packing buffers. Fresh multi-megabyte arrays cost a page fault per 4 KiB on first touch, measured ~40×
 * the cost of the copy itself on this VM; a pool reused from call to call touches its pages once.
 */
export class ScratchPool {
  private bufs: Float32Array[] = [];
  private next = 0;
  /** Start handing out buffers again from the first (the previous call's buffers are free). */
  reset(): void {
    this.next = 0;
  }
  /** An array of n floats, valid until the next reset; its contents are left over from earlier calls. */
  take(n: number): Float32Array {
    let b = this.bufs[this.next];
    if (!b || b.length < n)
      b = this.bufs[this.next] = new Float32Array(Math.max(n, Math.ceil((b?.length ?? 0) * 1.25)));
    this.next++;
    return b.subarray(0, n);
  }
}

/**
 * Which of a layer's two factors is sliced. G = Δᵀ X is [dOut, dIn]; the sliced contraction cuts the larger
 * dimension into slices of `s` and keeps the smaller one whole in each slice's rows: for dOut ≥ dIn the slices are
 * output rows (operands Xᵀ [N, 1, dIn, T] and Δ slices [N, C, T, w]), otherwise input columns (operands Δᵀ
 * [N, C, dOut, T] and X slices [N, 1, T, w]). Either way a slice's materialized rows are [N·C, whole·w] with the
 * same layout on both sides, so their inner products are those of G. A roberta-base 3072 → 768 layer sliced by its
 * 768 output rows had rows of 3072·16 values, four times the cache footprint of the other layers' (issue 18).
 */
export function sliceAxes(dIn: number, dOut: number): { whole: number; sliced: number; byInput: boolean } {
  return dIn > dOut ? { whole: dOut, sliced: dIn, byInput: true } : { whole: dIn, sliced: dOut, byInput: false };
}

/**
 * One side of a sliced call: N examples zero-padded to T tokens. A = the whole factor transposed, [N, a, whole, T]
 * (a = C for Δᵀ, 1 for Xᵀ); Ds holds the sliced factor's slices one after the other, each [N, d, T, w] (d = C for
 * Δ, 1 for X) for its w ≤ s columns.
 */
export interface LinearBlock {
  N: number;
  T: number;
  /** C when A is Δᵀ (slices by input column), 1 when it is Xᵀ. */
  a: number;
  /** C when the slices are of Δ, 1 when of X. */
  d: number;
  Ds: Float32Array;
  A: Float32Array;
}

/** Slices [first, end) of a layer's sliced dimension (sliceAxes), `s` wide each (the last one possibly narrower). */
export type SliceRange = readonly [first: number, end: number];

/** All slices of a layer, `s` wide each. */
export const allSlices = (dIn: number, dOut: number, s: number): SliceRange => [
  0,
  Math.ceil(sliceAxes(dIn, dOut).sliced / s),
];

/**
 * Pack one linear layer of `exs` for contractSliced, slices `s` wide (docs/kernels.md §3: zero padding), only those
 * of `range` in Ds. A is scaled by SIGN_PRESCALE (exact: a power of two), which contractSliced takes out of its
 * results.
 */
export function packSliced(
  exs: readonly ExampleGradFactors[],
  l: number,
  C: number,
  s: number,
  pool: ScratchPool,
  range: SliceRange = allSlices(exs[0].linears[l].dIn, exs[0].linears[l].dOut, s),
): LinearBlock {
  const { dIn, dOut } = exs[0].linears[l];
  const { whole, sliced, byInput } = sliceAxes(dIn, dOut);
  const a = byInput ? C : 1;
  const d = byInput ? 1 : C;
  let T = 1;
  for (const ex of exs) T = Math.max(T, ex.linears[l].T);
  const N = exs.length;
  const r0 = range[0] * s;
  const r1 = Math.min(sliced, range[1] * s);
  const Ds = pool.take(N * d * T * (r1 - r0));
  const A = pool.take(N * a * whole * T);
  // Factor k of example n as a row-major [T_n, width] matrix: X (k = 0) or Δ_k.
  const src = (n: number, k: number, ofDelta: boolean) => {
    const f = exs[n].linears[l];
    return ofDelta ? f.delta.subarray(k * f.T * dOut, (k + 1) * f.T * dOut) : f.X;
  };
  for (let n = 0; n < N; n++) {
    const Tn = exs[n].linears[l].T;
    for (let k = 0; k < a; k++) {
      const m = src(n, k, byInput);
      const base = (n * a + k) * whole * T;
      for (let t = 0; t < Tn; t++)
        for (let i = 0; i < whole; i++) A[base + i * T + t] = m[t * whole + i] * SIGN_PRESCALE;
      // The padding (tokens Tn … T−1) is written as zeros: the pool's buffers are not cleared.
      if (Tn < T) for (let i = 0; i < whole; i++) A.fill(0, base + i * T + Tn, base + (i + 1) * T);
    }
  }
  let off = 0;
  for (let s0 = r0; s0 < r1; s0 += s) {
    const w = Math.min(sliced, s0 + s) - s0;
    for (let n = 0; n < N; n++) {
      const Tn = exs[n].linears[l].T;
      for (let k = 0; k < d; k++) {
        const m = src(n, k, !byInput);
        const base = off + (n * d + k) * T * w;
        for (let t = 0; t < Tn; t++) {
          const from = t * sliced + s0;
          const to = base + t * w;
          for (let i = 0; i < w; i++) Ds[to + i] = m[from + i];
        }
        Ds.fill(0, base + Tn * w, base + T * w);
      }
    }
    off += N * d * T * w;
  }
  return { N, T, a, d, Ds, A };
}

/**
 * Output-row slices per onnxruntime call. One call per layer had graphs of thousands of nodes (a 768×3072 layer:
 * 192 slices) whose session creation took 4–12 CPU-seconds each, 18 of the ~110 CPU-seconds of bench-kernel's
 * synthetic contraction at `--limit-test 96`; graphs of 8 slices with dynamic shapes are created in a fraction of
 * a second and serve every layer shape, at the price of a few more calls (issue 18).
 */
export const SLICES_PER_CALL = 8;

/**
 * Materialize-and-contract of `slices` consecutive slices of one linear layer (docs/kernels.md §4.1; sliceAxes),
 * each small enough that its materialized rows stay in cache from their MatMul through the sign to the Gemms:
 * per slice, A · D_j per example (Xᵀ Δ[:, cols] or Δᵀ X[:, cols], flattened [whole·w]; the same layout on both
 * sides, so the inner products are those of G), then the Gemms of gemmsFor, the eval groups stacked. Shapes are
 * dynamic (slice j's width comes in as its row shape rs{j} = [-1, whole·w]), so one graph serves every layer. Every
 * slice's partial kernels come out stacked [slices, …] and are summed in float64 by the caller.
 */
function slicedGraph(pairs: readonly Pair[], slices: number, trGroups: number, groups: number): Uint8Array {
  const nodes: Node[] = [];
  const inits: object[] = [...SIGN_INITS];
  const inputs: object[] = [];
  const trSides = Array.from({ length: trGroups }, (_, h) => `tr${h}`);
  const sides = [...trSides, ...Array.from({ length: groups }, (_, g) => `ev${g}`)];
  for (const side of sides) inputs.push(valueInfo(`${side}A`, FLOAT, 4));
  inits.push({ name: "flat", dataType: INT64, dims: [2], int64Data: [1, -1] });
  const trSign = variants(pairs, 0).includes("S");
  const evSign = variants(pairs, 1).includes("S");
  const gemms = gemmsFor(pairs);
  const sliceOuts: string[] = [];
  for (let j = 0; j < slices; j++) {
    const rowShape = `rs${j}`;
    inputs.push(valueInfo(rowShape, INT64, 1));
    const mat = (side: string) => {
      const n = `${side}_${j}`;
      inputs.push(valueInfo(`${side}D${j}`, FLOAT, 4));
      nodes.push(
        { opType: "MatMul", input: [`${side}A`, `${side}D${j}`], output: [`${n}_G4`] },
        // Reshape, not Flatten: ORT's Reshape reuses the buffer, its Flatten was measured copying.
        { opType: "Reshape", input: [`${n}_G4`, rowShape], output: [`${n}_P`] },
      );
      return n;
    };
    // The train block's length groups, each materialized at its own padded length and signed, stacked into the row
    // blocks the Gemms take by one Concat each: [P; S] is [P₁ … P_H; S₁ … S_H], without first stacking the Ps
    // (one copy fewer per slice: 1.5–3% of a layer's time, measured on the three roberta-base layer shapes).
    const tr = `tr_${j}`;
    const trParts = trSides.map((side) => `${mat(side)}_P`);
    const trSigns = trSign
      ? trParts.map((p, h) => {
          nodes.push(...signNodes(p, `${tr}_S${h}`, true));
          return `${tr}_S${h}`;
        })
      : [];
    const stack = (parts: string[], name: string) => {
      if (parts.length === 1) return parts[0];
      nodes.push(concat(parts, name, 0));
      return name;
    };
    const trName: Record<string, string> = {};
    for (const v of new Set(gemms.map((g) => g.train.join(""))))
      trName[v] = stack(v === "P" ? trParts : v === "S" ? trSigns : [...trParts, ...trSigns], `${tr}_${v}`);
    // The eval groups likewise, stacked before the sign and the Gemms: one Gemm of the whole block per eval variant
    // ran 4–7% faster per layer than one per group of ~25 rows (a single-threaded Gemm of 100 × 64 rows at
    // roberta-base widths: 175 GFLOP/s, of 25 × 64: 122).
    const ev = `ev_${j}`;
    const evP = stack(
      Array.from({ length: groups }, (_, g) => `${mat(`ev${g}`)}_P`),
      `${ev}_P`,
    );
    if (evSign) nodes.push(...signNodes(evP, `${ev}_S`, true));
    const evName: Record<string, string> = { P: evP, S: `${ev}_S` };
    const flat: string[] = [];
    for (const k of gemms) {
      const out = `${ev}_${k.out}`;
      // Eval rows on the left: onnxruntime's Gemm packs its right operand, here the small train block.
      nodes.push(gemmT(evName[k.ev], trName[k.train.join("")], out), {
        opType: "Reshape",
        input: [out, "flat"],
        output: [`${out}_f`],
      });
      flat.push(`${out}_f`);
    }
    // One node per slice, and one graph output: ORT orders execution by a depth-first walk back from the outputs,
    // so each slice runs to its Gemms before the next one is materialized.
    nodes.push(concat(flat, `K_${j}`, 1));
    sliceOuts.push(`K_${j}`);
  }
  nodes.push(concat(sliceOuts, "K", 0));
  return encode("entk_sliced_contract", nodes, inputs, [valueInfo("K", FLOAT, 2)], inits);
}

/** Per eval group, each pair's [N_tr·C, N_g·C] kernel (rows: the train groups' examples in their order). */
export type GroupKernels = Partial<Record<Pair, Float64Array>>[];

/**
 * Sliced materialize-and-contract of one linear layer: the train block (its length groups, rows in their order)
 * against each eval group, over the slices in `range` (the blocks packed with the same range; sliceAxes).
 * Returns, per eval group, each pair's kernel summed over those slices in float64. `threads`: the sessions'
 * intra-op threads.
 */
export async function contractSliced(
  trs: readonly LinearBlock[],
  evs: readonly LinearBlock[],
  C: number,
  dIn: number,
  dOut: number,
  s: number,
  pairs: readonly Pair[],
  range: SliceRange = allSlices(dIn, dOut, s),
  threads?: number,
): Promise<GroupKernels> {
  const sides = [...trs.map((b, h) => [`tr${h}`, b] as const), ...evs.map((e, g) => [`ev${g}`, e] as const)];
  const { whole, sliced } = sliceAxes(dIn, dOut);
  const As = Object.fromEntries(sides.map(([side, b]) => [`${side}A`, f32(b.A, [b.N, b.a, whole, b.T])]));
  const gemms = gemmsFor(pairs);
  const R = trs.reduce((n, b) => n + b.N, 0) * C;
  // Per eval group and Gemm, the float64 sum over slices, [rows, Q] (the Gemms' outputs are eval-major [Q, rows]).
  const accs = evs.map((e) => gemms.map((k) => new Float64Array(k.train.length * R * e.N * C)));
  const [first, end] = range;
  // Each side's Ds holds the range's slices one after the other ([N, d, T, w] each); offs[i] walks side i's.
  const offs = sides.map(() => 0);
  for (let j0 = first; j0 < end; j0 += SLICES_PER_CALL) {
    const k = Math.min(SLICES_PER_CALL, end - j0);
    const sess = await session(
      `sliced:${pairs.join(",")}:${k}:${trs.length}:${evs.length}`,
      () => slicedGraph(pairs, k, trs.length, evs.length),
      threads,
    );
    const feeds: Record<string, ort.Tensor> = { ...As };
    for (let j = 0; j < k; j++) {
      const s0 = (j0 + j) * s;
      const w = Math.min(sliced, s0 + s) - s0;
      feeds[`rs${j}`] = i64([-1, whole * w]);
      sides.forEach(([side, b], i) => {
        const n = b.N * b.d * b.T * w;
        feeds[`${side}D${j}`] = f32(b.Ds.subarray(offs[i], offs[i] + n), [b.N, b.d, b.T, w]);
        offs[i] += n;
      });
    }
    const K = (await sess.run(feeds)).K.data as Float32Array;
    const width = K.length / k;
    for (let j = 0; j < k; j++) {
      // Per Gemm, [Q, rows] of the stacked eval groups: group g's examples are a contiguous run of its Q rows.
      let base = j * width;
      gemms.forEach((gm, i) => {
        evs.forEach((e, g) => {
          const Q = e.N * C;
          const acc = accs[g][i];
          const rows = gm.train.length * R;
          // Each P operand carries SIGN_PRESCALE (packSliced); the float64 sum takes it out exactly.
          gm.train.forEach((t, ti) => {
            const scale = (t === "P" ? 1 / SIGN_PRESCALE : 1) * (gm.ev === "P" ? 1 / SIGN_PRESCALE : 1);
            for (let q = 0; q < Q; q++)
              for (let r = ti * R; r < (ti + 1) * R; r++) acc[r * Q + q] += K[base + q * rows + r] * scale;
          });
          base += rows * Q;
        });
      });
    }
  }
  return evs.map((e, g) => {
    const res: Partial<Record<Pair, Float64Array>> = {};
    const RQ = R * e.N * C;
    gemms.forEach((gm, i) => {
      gm.train.forEach((t, ti) => {
        res[`${t}${gm.ev}` as Pair] = accs[g][i].subarray(ti * RQ, (ti + 1) * RQ);
      });
    });
    return res;
  });
}
