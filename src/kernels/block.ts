import type { ExampleGradFactors, SparseRowsGrad } from "../model/grad-factors.ts";
import { serialized } from "../util/serial.ts";
import { biasGradInto, packLinear } from "./factors.ts";
import { contractDense, contractGram, type Pair } from "./ort-graphs.ts";
import { includeParam } from "./params.ts";
import { ScratchPool, sliceAxes } from "./slice-graph.ts";
import { contractLayer } from "./slice-workers.ts";
import type { Formula, KernelName, ParamFilter, Strategy } from "./types.ts";

/** Largest number of entries one float32 dot product may sum: ±1/0 partial sums stay exact below 2^24. */
export const MAX_EXACT_COLUMNS = 2 ** 24;

export const PAIR_KERNEL: Record<Pair, KernelName> = {
  PP: "sgd",
  SS: "signgd",
  SP: "asymmetric_signgd",
  PS: "asymmetric_signgd_flipped",
};

export function pairsFor(formulas: readonly Formula[]): Pair[] {
  const pairs: Pair[] = [];
  if (formulas.includes("sgd")) pairs.push("PP");
  if (formulas.includes("signgd")) pairs.push("SS");
  if (formulas.includes("asymmetric_signgd")) pairs.push("SP", "PS");
  return pairs;
}

export interface BlockOptions {
  pairs: readonly Pair[];
  filter: ParamFilter;
  strategy: Strategy;
  /** Train examples per GEMM call. */
  trainBlock: number;
  /** Bytes a single ORT call may use for materialized rows and Gram matrices. */
  workBytes: number;
  /** Worker threads of the sliced contraction (src/kernels/slice-workers.ts; ≤ 1: in-process). */
  workers: number;
}

/** Kernel block per pair: float64 [nTrain·C, nEval·C] (row = train example·C + output, col likewise). */
export type Block = Partial<Record<Pair, Float64Array>>;

/**
 * Work space of one slice of the sliced contraction (the train rows and one eval group's, with their signs), from
 * which slicedLayout takes the slice width, rounded down to a multiple of MIN_SLICE_ROWS. 24 MiB gives slices of 32
 * output rows at roberta-base's dIn = 768 for 32 train and 25–32-example eval groups. Measured (issue 18; one
 * single-threaded process per core, the three roberta-base layer shapes, 32 train × 100 eval, best of four): 32
 * rows 1572–1588 ms, 16 rows 1695–1728, 48 rows 1668–1712; and 17 rows, which 12 MiB gave for 25-example groups
 * before the rounding, 5% slower than 16 (a MatMul output 17 floats wide is one AVX-512 vector and a 1-float rest).
 */
export const SLICE_WORK_BYTES = 24 * 2 ** 20;

/**
 * Eval examples of a block are sorted by length and cut into this many groups, each padded only to its own longest
 * example: the materializing MatMuls then do little work on padding (docs/kernels.md §4.1).
 */
export const EVAL_GROUPS = 4;
/**
 * Fewest eval examples per group (an eval block of 32 is one group). The Gemms see the groups stacked, so this
 * bounds only the number of materializing MatMuls: eight groups instead of four for 100 examples were within 1.3%.
 */
export const MIN_GROUP = 32;
/**
 * The train chunk is cut into length groups too, and their rows stacked before the Gemms (any size works there).
 * Padded to the chunk's longest example, the train side's materialization, redone for every eval block, cost ~40%
 * of a 96-example eval block's on GLUE-SST-2's lengths (32 × 41 token-rows per slice; 680 in four groups; issue 18).
 */
export const TRAIN_GROUPS = 4;
/** Fewest train examples per group (fewer MatMul nodes per slice for small chunks). */
export const MIN_TRAIN_GROUP = 8;
/**
 * Fewest output rows per slice: the materializing MatMul's output is [dIn, s] per example, and at 4 rows (dIn = 3072
 * under SLICE_WORK_BYTES) it ran at a fraction of its rate (the bench's contraction fell to 0.16 of the probe).
 */
export const MIN_SLICE_ROWS = 16;

/** Output rows per materialize call for a linear layer, from the work budget (≥ 1, ≤ dOut, ≤ 2^24 entries). */
export function sliceRows(dIn: number, dOut: number, rowsPerSide: number, signed: boolean, workBytes: number): number {
  // Per row: MatMul output and its reshape, plus sign(G) when signs are needed (one spare copy of margin).
  const bytesPerOutRow = 4 * dIn * rowsPerSide * (signed ? 4 : 3);
  const s = Math.floor(workBytes / bytesPerOutRow);
  return Math.max(1, Math.min(dOut, s, Math.floor(MAX_EXACT_COLUMNS / dIn) || 1));
}

/** FLOPs of the Gram-trick sgd contraction of one linear layer for an A×B block (docs/kernels.md §4.2). */
export function gramCost(A: number, Ta: number, B: number, Tb: number, C: number, dIn: number, dOut: number): number {
  return 2 * A * Ta * B * Tb * (dIn + C * C * dOut + C * C);
}

/** FLOPs of materializing and contracting one linear layer's sgd kernel (docs/kernels.md §4.1). */
export function materializeCost(
  A: number,
  Ta: number,
  B: number,
  Tb: number,
  C: number,
  dIn: number,
  dOut: number,
  alreadyMaterialized: boolean,
): number {
  const contract = 2 * A * C * B * C * dIn * dOut;
  return alreadyMaterialized ? contract : contract + 2 * C * dIn * dOut * (A * Ta + B * Tb);
}

function addInto(dst: Float64Array, src: Float32Array, rows: number, cols: number, row0: number, ldDst: number): void {
  for (let r = 0; r < rows; r++) {
    const d = (row0 + r) * ldDst;
    const s = r * cols;
    for (let k = 0; k < cols; k++) dst[d + k] += src[s + k];
  }
}

/** Columns of the dense rows: the included linear biases and dense params of an example. */
function denseWidth(ex: ExampleGradFactors, filter: ParamFilter): number {
  let width = 0;
  for (const l of ex.linears) if (l.bias && includeParam(l.bias, filter)) width += l.dOut;
  for (const d of ex.dense) if (includeParam(d.param, filter)) width += d.size;
  return width;
}

/**
 * Dense per-example gradients (included linear biases and dense params, concatenated) as the rows n·C + c of one
 * [N·C, width] matrix from `pool`: written in place, since a fresh array per example cost a page fault per 4 KiB.
 */
function denseRows(exs: readonly ExampleGradFactors[], width: number, filter: ParamFilter): Float32Array {
  const C = exs[0].C;
  const m = densePool.take(exs.length * C * width);
  exs.forEach((ex, n) => {
    const row = n * C * width;
    let off = 0;
    for (const l of ex.linears)
      if (l.bias && includeParam(l.bias, filter)) {
        biasGradInto(l, C, m, row + off, width);
        off += l.dOut;
      }
    for (const d of ex.dense)
      if (includeParam(d.param, filter)) {
        for (let c = 0; c < C; c++) m.set(d.values.subarray(c * d.size, (c + 1) * d.size), row + c * width + off);
        off += d.size;
      }
  });
  return m;
}
const densePool = new ScratchPool();

// One block's dense rows at a time per process: they live in densePool across the contraction's await.
const denseBlock = serialized(denseBlockNow);
async function denseBlockNow(
  train: readonly ExampleGradFactors[],
  evals: readonly ExampleGradFactors[],
  C: number,
  opts: BlockOptions,
  out: Block,
): Promise<void> {
  const width = denseWidth(train[0], opts.filter);
  if (width === 0) return;
  densePool.reset();
  const tr = denseRows(train, width, opts.filter);
  const ev = denseRows(evals, width, opts.filter);
  const R = train.length * C;
  const Q = evals.length * C;
  // Sign products are exact below 2^24 columns (MAX_EXACT_COLUMNS): wider rows go in column chunks.
  const columns = (m: Float32Array, rows: number, k0: number, k1: number) => {
    if (k0 === 0 && k1 === width) return m;
    const c = densePool.take(rows * (k1 - k0));
    for (let r = 0; r < rows; r++) c.set(m.subarray(r * width + k0, r * width + k1), r * (k1 - k0));
    return c;
  };
  for (let k0 = 0; k0 < width; k0 += MAX_EXACT_COLUMNS) {
    const k1 = Math.min(width, k0 + MAX_EXACT_COLUMNS);
    const res = await contractDense(columns(tr, R, k0, k1), R, columns(ev, Q, k0, k1), Q, k1 - k0, opts.pairs);
    for (const p of opts.pairs) addInto(out[p]!, res[p]!, R, Q, 0, Q);
  }
}

/** sign() of a sparse gradient's values, computed once per gradient (sparsePair meets each one once per pair). */
const signCache = new WeakMap<SparseRowsGrad, Float32Array>();
function signsOf(g: SparseRowsGrad): Float32Array {
  let s = signCache.get(g);
  if (!s) {
    s = new Float32Array(g.values.length);
    for (let i = 0; i < s.length; i++) s[i] = Math.sign(g.values[i]);
    signCache.set(g, s);
  }
  return s;
}

/** Σ_k x[i + k]·y[j + k] for k < w, accumulated in float64. */
function dotAt(x: Float32Array, i: number, y: Float32Array, j: number, w: number): number {
  let d = 0;
  for (let k = 0; k < w; k++) d += x[i + k] * y[j + k];
  return d;
}

/**
 * Σ over rows two examples share of ⟨v_a[c, row], v_b[c', row]⟩ for each requested pair (sparse embeddings,
 * docs/kernels.md §3), into acc[(c·C + c′)·4 + slot]. Only the requested products are formed: the quick sweep's
 * sgd-only sotu kernel had spent 22 of its 33 CPU-seconds here forming all four with Math.sign in the inner loop.
 */
function sparsePair(
  a: SparseRowsGrad,
  b: SparseRowsGrad,
  C: number,
  acc: Float64Array,
  { PP: pp, SS: ss, SP: sp, PS: ps }: Record<Pair, boolean>,
): void {
  const w = a.width;
  const na = a.rows.length;
  const nb = b.rows.length;
  const sa = ss || sp ? signsOf(a) : a.values;
  const sb = ss || ps ? signsOf(b) : b.values;
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    if (a.rows[i] < b.rows[j]) i++;
    else if (a.rows[i] > b.rows[j]) j++;
    else {
      for (let c = 0; c < C; c++) {
        const oa = (c * na + i) * w;
        for (let c2 = 0; c2 < C; c2++) {
          const ob = (c2 * nb + j) * w;
          const base = (c * C + c2) * 4;
          if (pp) acc[base] += dotAt(a.values, oa, b.values, ob, w);
          if (ss) acc[base + 1] += dotAt(sa, oa, sb, ob, w);
          if (sp) acc[base + 2] += dotAt(sa, oa, b.values, ob, w);
          if (ps) acc[base + 3] += dotAt(a.values, oa, sb, ob, w);
        }
      }
      i++;
      j++;
    }
  }
}

function sparseBlock(
  train: readonly ExampleGradFactors[],
  evals: readonly ExampleGradFactors[],
  C: number,
  opts: BlockOptions,
  out: Block,
): void {
  const tensors = train[0].sparse.map((s, k) => ({ k, s })).filter(({ s }) => includeParam(s.param, opts.filter));
  if (tensors.length === 0) return;
  const Q = evals.length * C;
  const acc = new Float64Array(C * C * 4);
  const slot: Record<Pair, number> = { PP: 0, SS: 1, SP: 2, PS: 3 };
  // Which products sparsePair forms, decided once per block rather than once per pair of examples.
  const has = (p: Pair) => opts.pairs.includes(p);
  const want: Record<Pair, boolean> = { PP: has("PP"), SS: has("SS"), SP: has("SP"), PS: has("PS") };
  train.forEach((ta, a) => {
    evals.forEach((eb, b) => {
      acc.fill(0);
      for (const { k } of tensors) sparsePair(ta.sparse[k], eb.sparse[k], C, acc, want);
      for (const p of opts.pairs) {
        const dst = out[p]!;
        for (let c = 0; c < C; c++)
          for (let c2 = 0; c2 < C; c2++) dst[(a * C + c) * Q + b * C + c2] += acc[(c * C + c2) * 4 + slot[p]];
      }
    });
  });
}

async function linearBlock(
  train: readonly ExampleGradFactors[],
  evals: readonly ExampleGradFactors[],
  l: number,
  C: number,
  opts: BlockOptions,
  out: Block,
): Promise<void> {
  const { dIn, dOut, weight } = train[0].linears[l];
  if (!includeParam(weight, opts.filter)) return;
  const Q = evals.length * C;
  const B = evals.length;
  let Tb = 1;
  for (const e of evals) Tb = Math.max(Tb, e.linears[l].T);
  // The cost model keeps the padded lengths of one undivided block: the Gram side pads to them.
  for (let a0 = 0; a0 < train.length; a0 += opts.trainBlock) {
    const trs = train.slice(a0, a0 + opts.trainBlock);
    const A = trs.length;
    let Ta = 1;
    for (const e of trs) Ta = Math.max(Ta, e.linears[l].T);
    const signPairs = opts.pairs.filter((p) => p !== "PP");
    const wantPP = opts.pairs.includes("PP");
    let gram = false;
    if (wantPP && opts.strategy !== "materialize") {
      const gramBytes = 4 * A * Ta * B * Tb * (1 + 2 * C * C);
      const fits = gramBytes <= opts.workBytes;
      if (opts.strategy === "gram") gram = true;
      else
        gram =
          fits &&
          gramCost(A, Ta, B, Tb, C, dIn, dOut) < materializeCost(A, Ta, B, Tb, C, dIn, dOut, signPairs.length > 0);
    }
    if (gram) {
      const k = await contractGram(packLinear(trs, l, 0, dOut, C), packLinear(evals, l, 0, dOut, C), C, dIn, dOut);
      addInto(out.PP!, k, A * C, Q, a0 * C, Q);
    }
    const matPairs = gram ? signPairs : opts.pairs;
    if (matPairs.length === 0) continue;
    const { trainGroups, groups, s } = slicedLayout(
      trs.map((e) => e.linears[l].T),
      evals.map((e) => e.linears[l].T),
      C,
      dIn,
      dOut,
      signPairs.length > 0,
      opts.workBytes,
    );
    const res = await contractLayer(
      trainGroups.map((idx) => idx.map((i) => trs[i])),
      groups.map((idx) => idx.map((i) => evals[i])),
      l,
      C,
      s,
      matPairs,
      opts.workers,
    );
    // Result rows follow the train groups' order, columns the eval group's.
    const trainOrder = trainGroups.flat();
    groups.forEach((idx, g) => {
      const q = idx.length * C;
      for (const p of matPairs) {
        const src = res[g][p]!;
        const dst = out[p]!;
        trainOrder.forEach((a, i) => {
          for (let c = 0; c < C; c++) {
            const row = (a0 + a) * C + c;
            idx.forEach((b, k) => {
              for (let c2 = 0; c2 < C; c2++) dst[row * Q + b * C + c2] += src[(i * C + c) * q + k * C + c2];
            });
          }
        });
      }
    });
  }
}

/**
 * How the sliced contraction of one linear layer cuts a train chunk (token counts `trainT`) × an eval block (`evalT`):
 * both sides' examples into length groups (lengthGroups), each group padded only to its own longest example, and
 * slices `s` wide of the layer's larger dimension (slice-graph.ts sliceAxes): a multiple of MIN_SLICE_ROWS (the
 * materializing MatMul's output width) under SLICE_WORK_BYTES, at least MIN_SLICE_ROWS unless the work budget is
 * smaller still. The cost model (cost.ts) uses it too.
 */
export function slicedLayout(
  trainT: readonly number[],
  evalT: readonly number[],
  C: number,
  dIn: number,
  dOut: number,
  signed: boolean,
  workBytes: number,
): { trainGroups: number[][]; groups: number[][]; s: number } {
  const A = trainT.length;
  const trainGroups = lengthGroups(trainT, Math.min(TRAIN_GROUPS, Math.ceil(A / MIN_TRAIN_GROUP)));
  const groups = lengthGroups(evalT, Math.min(EVAL_GROUPS, Math.ceil(evalT.length / MIN_GROUP)));
  const rows = A * C + Math.max(...groups.map((g) => g.length)) * C;
  const { whole, sliced } = sliceAxes(dIn, dOut);
  // Whole multiples of MIN_SLICE_ROWS (SLICE_WORK_BYTES), unless one slice takes the whole dimension.
  const fit = sliceRows(whole, sliced, rows, signed, Math.min(workBytes, SLICE_WORK_BYTES));
  const s =
    fit >= MIN_SLICE_ROWS && fit < sliced
      ? fit - (fit % MIN_SLICE_ROWS)
      : Math.max(fit, Math.min(MIN_SLICE_ROWS, sliceRows(whole, sliced, rows, signed, workBytes)));
  return { trainGroups, groups, s };
}

/** Example indices sorted by token count and cut into at most `max` groups of equal size (less padding per group). */
export function lengthGroups(T: readonly number[], max: number): number[][] {
  const order = T.map((_, i) => i).sort((a, b) => T[a] - T[b] || a - b);
  const n = Math.max(1, Math.min(max, order.length));
  return Array.from({ length: n }, (_, g) =>
    order.slice(Math.floor((g * order.length) / n), Math.floor(((g + 1) * order.length) / n)),
  ).filter((g) => g.length > 0);
}

/**
 * Exact kernels between all train examples and one block of eval examples, from factored gradients:
 * linear weights (materialized or Gram), dense and bias gradients (one GEMM), sparse rows (shared rows only).
 * Contributions are summed across tensors in float64.
 */
export async function contractBlock(
  train: readonly ExampleGradFactors[],
  evals: readonly ExampleGradFactors[],
  opts: BlockOptions,
): Promise<Block> {
  const C = train[0].C;
  const out: Block = {};
  for (const p of opts.pairs) out[p] = new Float64Array(train.length * C * evals.length * C);
  if (evals.length === 0) return out;
  for (let l = 0; l < train[0].linears.length; l++) await linearBlock(train, evals, l, C, opts, out);
  await denseBlock(train, evals, C, opts, out);
  sparseBlock(train, evals, C, opts, out);
  return out;
}
