import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { defaultThreads } from "../model/runtime/providers.ts";

const { onnx } = onnxProto;
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const { INT, INTS } = onnx.AttributeProto.AttributeType;

/**
 * A contraction pair: which variant of the train side (first letter) meets which of the eval side (second):
 * P = plain gradient, S = sign(gradient). PP = sgd, SS = signgd, SP = asymmetric_signgd, PS = its flipped kernel.
 */
export type Pair = "PP" | "SS" | "SP" | "PS";

export type Node = { opType: string; input: string[]; output: string[]; attribute?: object[] };

export function valueInfo(name: string, elemType: number, rank: number) {
  const dim = Array.from({ length: rank }, (_, i) => ({ dimParam: `${name}_${i}` }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

export function encode(
  name: string,
  nodes: Node[],
  inputs: object[],
  outputs: object[],
  inits: object[] = [],
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "entk",
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name, node: nodes, input: inputs, output: outputs, initializer: inits },
  });
  return onnx.ModelProto.encode(model).finish();
}

export const gemmT = (a: string, b: string, out: string): Node => ({
  opType: "Gemm",
  input: [a, b],
  output: [out],
  attribute: [{ name: "transB", type: INT, i: 1 }],
});

/** Concat of `inputs` along `axis` into `output`. */
export const concat = (inputs: string[], output: string, axis: number): Node => ({
  opType: "Concat",
  input: inputs,
  output: [output],
  attribute: [{ name: "axis", type: INT, i: axis }],
});

/**
 * sign(x) as Clip(x · 2^127 · 2^127, −1, 1), the initializers it needs being SIGN_INITS. It is exact for every
 * float32: the smallest subnormal, 2^-149, times 2^254 is ≥ 1, larger magnitudes saturate (to ±∞ at worst, which
 * Clip maps to ±1), and ±0 stays ±0. onnxruntime's own Sign kernel was measured 10× slower (14 ns per element,
 * against 1.5 ns for these three vectorized passes over a [1536, 1024] tensor); in the sliced contraction it had
 * taken a quarter of the call time (issue 18).
 *
 * With `prescaled`, x is SIGN_PRESCALE times a float32 computation (an operand scaled before a product) and one
 * multiplication suffices: Clip(x · 2^127, −1, 1) (docs/kernels.md §4.1).
 */
export function signNodes(x: string, y: string, prescaled = false): Node[] {
  const m1 = { opType: "Mul", input: [x, "sign_scale"], output: [`${y}_m1`] };
  const clip = (v: string): Node => ({ opType: "Clip", input: [v, "sign_lo", "sign_hi"], output: [y] });
  if (prescaled) return [m1, clip(`${y}_m1`)];
  return [m1, { opType: "Mul", input: [`${y}_m1`, "sign_scale"], output: [`${y}_m2`] }, clip(`${y}_m2`)];
}

/**
 * The factor by which the sliced contraction scales one operand of its materializing product, so that its sign
 * takes one multiplication instead of two (signNodes). If the unscaled float32 product g is nonzero, then
 * |g| ≥ 2^-149 and the exact value is ≥ 2^-150, so the scaled product is ≥ 2^-126 (a normal float32, the scaling
 * being exact there) and times 2^127 it is ≥ 2: Clip gives ±1. Exact zeros stay zero. The two sides differ only
 * where the unscaled product underflows to 0 and the scaled one does not (|exact| < 2^-150), far below any
 * gradient entry. The price: the float32 products of two scaled rows carry 2^48, so their partial sums must stay
 * below 2^80 ≈ 1.2·10^24 instead of 2^128.
 */
export const SIGN_PRESCALE = 2 ** 24;

const scalar = (name: string, v: number) => ({ name, dataType: FLOAT, dims: [], floatData: [v] });
/** Initializers of signNodes; a graph that uses signNodes lists these once. */
export const SIGN_INITS: object[] = [scalar("sign_scale", 2 ** 127), scalar("sign_lo", -1), scalar("sign_hi", 1)];

/** Variants each side needs, in P, S order. */
export function variants(pairs: readonly Pair[], side: 0 | 1): ("P" | "S")[] {
  return (["P", "S"] as const).filter((v) => pairs.some((p) => p[side] === v));
}

/**
 * Which Gemms a pair set needs: one per eval variant, against the train variants paired with it. When both train
 * variants meet the same eval variant, the train side is stacked [P; S] (a Concat of the small train block only) so
 * the large eval block is read once per eval variant: all three formulas take two Gemms [P; S]·evPᵀ and [P; S]·evSᵀ
 * instead of four. (Stacking the eval side too was measured slower: its Concat copies the big block.)
 */
export function gemmsFor(pairs: readonly Pair[]): { train: ("P" | "S")[]; ev: "P" | "S"; out: string }[] {
  return variants(pairs, 1).map((ev) => {
    const train = variants(pairs, 0).filter((t) => pairs.includes(`${t}${ev}` as Pair));
    return { train, ev, out: `K_${train.join("")}_${ev}` };
  });
}

/** The Gemms of gemmsFor, sign() applied in-graph to whichever side needs it. */
function pairNodes(tr: string, ev: string, pairs: readonly Pair[]): { nodes: Node[]; outputs: object[] } {
  const nodes: Node[] = [];
  for (const [side, base] of [
    [0, tr],
    [1, ev],
  ] as const)
    if (variants(pairs, side).includes("S")) nodes.push(...signNodes(base, `${base}_S`));
  const gemms = gemmsFor(pairs);
  const name = (base: string, v: string) => (v === "S" ? `${base}_S` : base);
  if (gemms.some((g) => g.train.length === 2)) nodes.push(concat([tr, `${tr}_S`], `${tr}_PS`, 0));
  for (const g of gemms)
    nodes.push(gemmT(g.train.length === 2 ? `${tr}_PS` : name(tr, g.train[0]), name(ev, g.ev), g.out));
  return { nodes, outputs: gemms.map((g) => valueInfo(g.out, FLOAT, 2)) };
}

/** Inputs trG [R, D], evG [Q, D] (already materialized rows) → K_pair [R, Q]. */
function denseGraph(pairs: readonly Pair[]): Uint8Array {
  const { nodes, outputs } = pairNodes("trG", "evG", pairs);
  const inputs = [valueInfo("trG", FLOAT, 2), valueInfo("evG", FLOAT, 2)];
  return encode("entk_dense_contract", nodes, inputs, outputs, SIGN_INITS);
}

/**
 * Gram trick (docs/kernels.md §4.2), sgd only: ⟨Δ_aᵀX_a, Δ_bᵀX_b⟩ = Σ_{t,s} (X_a X_bᵀ)_{ts} (Δ_a Δ_bᵀ)_{ts}.
 * Inputs trX [A·Ta, dIn], trD [A·C·Ta, dOut], evX [B·Tb, dIn], evD [B·C·Tb, dOut] (zero-padded tokens),
 * gxShape = [A,1,Ta,B,1,Tb], gdShape = [A,C,Ta,B,C,Tb] → K_PP [A,C,B,C].
 */
function gramGraph(): Uint8Array {
  const nodes: Node[] = [
    gemmT("trX", "evX", "GX"),
    gemmT("trD", "evD", "GD"),
    { opType: "Reshape", input: ["GX", "gxShape"], output: ["GX6"] },
    { opType: "Reshape", input: ["GD", "gdShape"], output: ["GD6"] },
    { opType: "Mul", input: ["GX6", "GD6"], output: ["P6"] },
    {
      opType: "ReduceSum",
      input: ["P6", "axes25"],
      output: ["K_PP"],
      attribute: [{ name: "keepdims", type: INT, i: 0 }],
    },
  ];
  const inputs = [
    ...["trX", "trD", "evX", "evD"].map((n) => valueInfo(n, FLOAT, 2)),
    valueInfo("gxShape", INT64, 1),
    valueInfo("gdShape", INT64, 1),
  ];
  const axes = { name: "axes25", dataType: INT64, dims: [2], int64Data: [2, 5] };
  return encode("entk_gram_contract", nodes, inputs, [valueInfo("K_PP", FLOAT, 4)], [axes]);
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** A cached CPU session of graph `key` with `threads` intra-op threads (a slice worker runs single-threaded). */
export function session(
  key: string,
  build: () => Uint8Array,
  threads = defaultThreads(),
): Promise<ort.InferenceSession> {
  let s = sessions.get(`${key}@${threads}`);
  if (!s) {
    s = ort.InferenceSession.create(build(), {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      logSeverityLevel: 3,
      // Spinning idle threads steal cycles from the other thread and from other processes on a shared machine;
      // measured faster without (as in the engine's sessions).
      extra: { session: { intra_op: { allow_spinning: "0" } } },
      // Every call has its own shapes; ORT's per-shape memory plans (RuntimeOptions.memPattern) would keep a block
      // of each in the arena: measured 1.6 GB instead of 0.86 GB resident for 512 MiB calls, same speed.
      enableMemPattern: false,
    });
    sessions.set(`${key}@${threads}`, s);
  }
  return s;
}

export const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor("float32", data, dims);
export const i64 = (dims: number[]) => new ort.Tensor("int64", BigInt64Array.from(dims.map(BigInt)), [dims.length]);

/** Run a pair graph: each pair's [R, Q] block (a view into the stacked output when stacked). */
async function runPairs(
  s: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  pairs: readonly Pair[],
  R: number,
  Q: number,
): Promise<Partial<Record<Pair, Float32Array>>> {
  const out = await s.run(feeds);
  const res: Partial<Record<Pair, Float32Array>> = {};
  for (const g of gemmsFor(pairs)) {
    const data = out[g.out].data as Float32Array;
    g.train.forEach((t, i) => {
      res[`${t}${g.ev}` as Pair] = data.subarray(i * R * Q, (i + 1) * R * Q);
    });
  }
  return res;
}

/** trG [R, D] · evG [Q, D]ᵀ per pair → [R, Q] float32 each. */
export async function contractDense(
  trG: Float32Array,
  R: number,
  evG: Float32Array,
  Q: number,
  D: number,
  pairs: readonly Pair[],
): Promise<Partial<Record<Pair, Float32Array>>> {
  const s = await session(`dense:${pairs.join(",")}`, () => denseGraph(pairs));
  return runPairs(s, { trG: f32(trG, [R, D]), evG: f32(evG, [Q, D]) }, pairs, R, Q);
}

/** One side of a materialize call: Δ slice [N, C, T, s] and X [N, T, dIn]. */
export interface FactorBlock {
  N: number;
  T: number;
  D: Float32Array;
  X: Float32Array;
}

/** Gram-trick sgd contraction of two factor blocks (full dOut): → [A, C, B, C] float32. */
export async function contractGram(
  tr: FactorBlock,
  ev: FactorBlock,
  C: number,
  dIn: number,
  dOut: number,
): Promise<Float32Array> {
  const sess = await session("gram", gramGraph);
  const out = await sess.run({
    trX: f32(tr.X, [tr.N * tr.T, dIn]),
    trD: f32(tr.D, [tr.N * C * tr.T, dOut]),
    evX: f32(ev.X, [ev.N * ev.T, dIn]),
    evD: f32(ev.D, [ev.N * C * ev.T, dOut]),
    gxShape: i64([tr.N, 1, tr.T, ev.N, 1, ev.T]),
    gdShape: i64([tr.N, C, tr.T, ev.N, C, ev.T]),
  });
  return out.K_PP.data as Float32Array;
}
