import type * as ort from "onnxruntime-node";
import type { ExampleGradFactors } from "../model/grad-factors.ts";
import {
  encode,
  FLOAT,
  f32,
  gemmsFor,
  gemmT,
  INT,
  INT64,
  type Node,
  type Pair,
  SIGN_INITS,
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
  /** A zeroed array of n floats, valid until the next reset. */
  take(n: number): Float32Array {
    let b = this.bufs[this.next];
    if (!b || b.length < n)
      b = this.bufs[this.next] = new Float32Array(Math.max(n, Math.ceil((b?.length ?? 0) * 1.25)));
    this.next++;
    const v = b.subarray(0, n);
    v.fill(0);
    return v;
  }
}

/**
 * One side of a sliced call: N examples zero-padded to T tokens; Ds holds the cotangent slices one after the other,
 * each [N, C, T, w] for its w ≤ s output rows; Xt = Xᵀ [N, dIn, T].
 */
export interface LinearBlock {
  N: number;
  T: number;
  Ds: Float32Array;
  Xt: Float32Array;
}

/** Pack one linear layer of `exs` for contractSliced, slices of `s` output rows (docs/kernels.md §3: zero padding). */
export function packSliced(
  exs: readonly ExampleGradFactors[],
  l: number,
  C: number,
  s: number,
  pool: ScratchPool,
): LinearBlock {
  const { dIn, dOut } = exs[0].linears[l];
  let T = 1;
  for (const ex of exs) T = Math.max(T, ex.linears[l].T);
  const N = exs.length;
  const Ds = pool.take(N * C * T * dOut);
  const Xt = pool.take(N * dIn * T);
  exs.forEach((ex, n) => {
    const f = ex.linears[l];
    for (let t = 0; t < f.T; t++) {
      const src = t * dIn;
      const dst = n * dIn * T + t;
      for (let i = 0; i < dIn; i++) Xt[dst + i * T] = f.X[src + i];
    }
  });
  let off = 0;
  for (let s0 = 0; s0 < dOut; s0 += s) {
    const w = Math.min(dOut, s0 + s) - s0;
    for (let n = 0; n < N; n++) {
      const f = exs[n].linears[l];
      const d = f.delta;
      for (let c = 0; c < C; c++)
        for (let t = 0; t < f.T; t++) {
          const src = (c * f.T + t) * dOut + s0;
          const dst = off + ((n * C + c) * T + t) * w;
          for (let i = 0; i < w; i++) Ds[dst + i] = d[src + i];
        }
    }
    off += N * C * T * w;
  }
  return { N, T, Ds, Xt };
}

/**
 * Materialize-and-contract of one linear layer in one ORT call (docs/kernels.md §4.1), its output rows cut into
 * slices of `s` so that each slice's materialized rows stay in cache from their MatMul through the sign to the Gemms:
 * per slice, Gᵀ = Xᵀ Δ[:, rows] per example (flattened [dIn·s]; the same layout on both sides, so the inner products
 * are those of G), then the Gemms of gemmsFor against each eval group. Every slice's partial kernels come out
 * stacked [nSlices, …] and are summed in float64 by the caller, as separate calls' results were.
 */
function slicedGraph(
  pairs: readonly Pair[],
  dIn: number,
  dOut: number,
  s: number,
  trGroups: number,
  groups: number,
): Uint8Array {
  const nodes: Node[] = [];
  const inits: object[] = [...SIGN_INITS];
  const inputs: object[] = [];
  const trSides = Array.from({ length: trGroups }, (_, h) => `tr${h}`);
  const sides = [...trSides, ...Array.from({ length: groups }, (_, g) => `ev${g}`)];
  for (const side of sides) inputs.push(valueInfo(`${side}Xt`, FLOAT, 4));
  const i64c = (name: string, v: number[]) => {
    inits.push({ name, dataType: INT64, dims: [v.length], int64Data: v });
    return name;
  };
  i64c("flat", [1, -1]);
  const trSign = variants(pairs, 0).includes("S");
  const evSign = variants(pairs, 1).includes("S");
  const gemms = gemmsFor(pairs);
  const sliceOuts: string[] = [];
  const nSlices = Math.ceil(dOut / s);
  for (let j = 0; j < nSlices; j++) {
    const rowShape = i64c(`rs${j}`, [-1, dIn * (Math.min(dOut, (j + 1) * s) - j * s)]);
    const mat = (side: string) => {
      const n = `${side}_${j}`;
      inputs.push(valueInfo(`${side}D${j}`, FLOAT, 4));
      nodes.push(
        { opType: "MatMul", input: [`${side}Xt`, `${side}D${j}`], output: [`${n}_G4`] },
        // Reshape, not Flatten: ORT's Reshape reuses the buffer, its Flatten was measured copying.
        { opType: "Reshape", input: [`${n}_G4`, rowShape], output: [`${n}_P`] },
      );
      return n;
    };
    // The train block's length groups, each materialized at its own padded length, stacked into one row block.
    const tr = `tr_${j}`;
    const trParts = trSides.map((side) => `${mat(side)}_P`);
    const trP = trParts.length === 1 ? trParts[0] : `${tr}_P`;
    if (trParts.length > 1)
      nodes.push({ opType: "Concat", input: trParts, output: [trP], attribute: [{ name: "axis", type: INT, i: 0 }] });
    const trName = { P: trP, S: `${tr}_S`, PS: `${tr}_PS` } as Record<string, string>;
    if (trSign) nodes.push(...signNodes(trP, `${tr}_S`));
    if (gemms.some((g) => g.train.length === 2))
      nodes.push({
        opType: "Concat",
        input: [trP, `${tr}_S`],
        output: [`${tr}_PS`],
        attribute: [{ name: "axis", type: INT, i: 0 }],
      });
    const flat: string[] = [];
    for (let g = 0; g < groups; g++) {
      const ev = mat(`ev${g}`);
      if (evSign) nodes.push(...signNodes(`${ev}_P`, `${ev}_S`));
      for (const k of gemms) {
        const out = `${ev}_${k.out}`;
        // Eval rows on the left: onnxruntime's Gemm packs its right operand, here the small train block.
        nodes.push(gemmT(`${ev}_${k.ev}`, trName[k.train.join("")], out), {
          opType: "Reshape",
          input: [out, "flat"],
          output: [`${out}_f`],
        });
        flat.push(`${out}_f`);
      }
    }
    // One node per slice, and one graph output: ORT orders execution by a depth-first walk back from the outputs,
    // so each slice runs to its Gemms before the next one is materialized.
    nodes.push({ opType: "Concat", input: flat, output: [`K_${j}`], attribute: [{ name: "axis", type: INT, i: 1 }] });
    sliceOuts.push(`K_${j}`);
  }
  nodes.push({ opType: "Concat", input: sliceOuts, output: ["K"], attribute: [{ name: "axis", type: INT, i: 0 }] });
  return encode("entk_sliced_contract", nodes, inputs, [valueInfo("K", FLOAT, 2)], inits);
}

/**
 * Sliced materialize-and-contract of one linear layer: the train block (its length groups, rows in their order)
 * against each eval group, all dOut rows. Returns, per eval group, each pair's [N_tr·C, N_g·C] kernel summed over
 * slices in float64.
 */
export async function contractSliced(
  trs: readonly LinearBlock[],
  evs: readonly LinearBlock[],
  C: number,
  dIn: number,
  dOut: number,
  s: number,
  pairs: readonly Pair[],
): Promise<Partial<Record<Pair, Float64Array>>[]> {
  const sess = await session(`sliced:${pairs.join(",")}:${dIn}:${dOut}:${s}:${trs.length}:${evs.length}`, () =>
    slicedGraph(pairs, dIn, dOut, s, trs.length, evs.length),
  );
  const feeds: Record<string, ort.Tensor> = {};
  const sides = [...trs.map((b, h) => [`tr${h}`, b] as const), ...evs.map((e, g) => [`ev${g}`, e] as const)];
  for (const [side, b] of sides) {
    feeds[`${side}Xt`] = f32(b.Xt, [b.N, 1, dIn, b.T]);
    let off = 0;
    for (let j = 0, s0 = 0; s0 < dOut; j++, s0 += s) {
      const w = Math.min(dOut, s0 + s) - s0;
      const n = b.N * C * b.T * w;
      feeds[`${side}D${j}`] = f32(b.Ds.subarray(off, off + n), [b.N, C, b.T, w]);
      off += n;
    }
  }
  const out = await sess.run(feeds);
  const K = out.K.data as Float32Array;
  const nSlices = Math.ceil(dOut / s);
  const width = K.length / nSlices;
  const R = trs.reduce((n, b) => n + b.N, 0) * C;
  const res = evs.map(() => ({}) as Partial<Record<Pair, Float64Array>>);
  let off = 0;
  evs.forEach((e, g) => {
    const Q = e.N * C;
    for (const k of gemmsFor(pairs)) {
      const rows = k.train.length * R;
      const acc = new Float64Array(rows * Q);
      for (let j = 0; j < nSlices; j++) {
        const base = j * width + off;
        // The Gemm's output is eval-major [Q, rows]; acc is [rows, Q].
        for (let q = 0; q < Q; q++) for (let r = 0; r < rows; r++) acc[r * Q + q] += K[base + q * rows + r];
      }
      k.train.forEach((t, i) => {
        res[g][`${t}${k.ev}` as Pair] = acc.subarray(i * R * Q, (i + 1) * R * Q);
      });
      off += rows * Q;
    }
  });
  return res;
}
