/**
 * The op set: each op emits its ONNX node(s) with shape inference and records its VJP rule right next to it.
 * Cotangents always carry one extra LEADING axis (the C outputs being differentiated at once): the cotangent of
 * a value of shape S has shape [C, ...S]. Forward operands broadcast against it from the right, so most rules
 * read exactly like their textbook form; `unbroadcast` sums over the axes an operand was broadcast along.
 *
 * Each op also records its forward-mode (JVP) rule as the last argument of `record`: input tangents (the
 * primal's shape, no leading axis; undefined = zero) → output tangents. The rules use taped ops only, so a
 * JVP graph can be differentiated again in reverse mode (docs/linearization.md).
 */
import { type Graph, int, ints } from "./graph.ts";
import { broadcastShapes, type Dim, type DType, type Shape, shapeStr, type Tensor } from "./tensor.ts";

export type TensorLike = Tensor | number;

const G = (t: Tensor): Graph => t.graph as Graph;

function one(g: Graph, op: string, inputs: (Tensor | null)[], dtype: DType, shape: Shape, attrs = {}): Tensor {
  return g.node(op, inputs, [{ dtype, shape }], attrs)[0];
}

/** Turn numbers into scalar constants of the other operand's dtype. */
function lift(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") throw new Error("at least one operand must be a tensor");
  const ref = (typeof a === "number" ? b : a) as Tensor;
  const ta = typeof a === "number" ? G(ref).scalar(a, ref.dtype) : a;
  const tb = typeof b === "number" ? G(ref).scalar(b, ref.dtype) : b;
  if (ta.dtype !== tb.dtype) throw new Error(`dtype mismatch: ${ta.dtype} vs ${tb.dtype}`);
  return [ta, tb];
}

function normAxis(axis: number, r: number): number {
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) throw new Error(`axis ${axis} out of range for rank ${r}`);
  return a;
}

// ---------- untaped shape helpers (int64 shape arithmetic, never differentiated) ----------

/** Shape(x)[start:end] as an int64 tensor. */
function shapeOf(x: Tensor, start = 0, end?: number): Tensor {
  const r = x.shape.length;
  const e = end ?? r;
  const attrs = end === undefined ? { start: int(start) } : { start: int(start), end: int(end) };
  return one(G(x), "Shape", [x], "int64", [Math.max(0, e - start)], attrs);
}

function concatShapes(parts: Tensor[]): Tensor {
  const n = parts.reduce((s, p) => s + (p.shape[0] as number), 0);
  return one(G(parts[0]), "Concat", parts, "int64", [n], { axis: int(0) });
}

/** Shape [C, ...x.shape] at run time, C taken from the cotangent `d`. */
function cotShape(d: Tensor, x: Tensor): Tensor {
  return concatShapes([shapeOf(d, 0, 1), shapeOf(x)]);
}

function reduceSumRaw(x: Tensor, axes: number[], keepdims: boolean): Tensor {
  if (axes.length === 0) return x;
  const g = G(x);
  const shape = keepdims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  return one(g, "ReduceSum", [x, g.constant(axes, [axes.length], "int64")], x.dtype, shape, {
    keepdims: int(keepdims ? 1 : 0),
  });
}

/**
 * Sum a cotangent d ([C, ...S]) down to [C, ...target] where target broadcasts to S: over the leading axes
 * target lacks, and over the axes where target has size 1.
 */
export function unbroadcast(d: Tensor, target: Shape): Tensor {
  const S = d.shape.slice(1);
  const k = S.length - target.length;
  if (k < 0) throw new Error(`unbroadcast: ${shapeStr(target)} has higher rank than ${shapeStr(S)}`);
  let out = reduceSumRaw(
    d,
    Array.from({ length: k }, (_, i) => i + 1),
    false,
  );
  const ones: number[] = [];
  for (let i = 0; i < target.length; i++) if (target[i] === 1 && S[k + i] !== 1) ones.push(i + 1);
  out = reduceSumRaw(out, ones, true);
  return out;
}

// ---------- tangent helpers (forward mode) ----------

/** t broadcast to `like`'s shape (a taped Expand whose VJP sums back), or t itself when the shapes agree. */
function broadcastTo(t: Tensor, like: Tensor): Tensor {
  if (shapeStr(t.shape) === shapeStr(like.shape)) return t;
  return expandTo(t, shapeOf(like), like.shape);
}

/** Sum of the defined tangents, broadcast to `out`'s shape; undefined when none is defined (a zero tangent). */
function tangentSum(out: Tensor, ...ts: (Tensor | undefined)[]): Tensor | undefined {
  const defined = ts.filter((t): t is Tensor => t !== undefined);
  if (defined.length === 0) return undefined;
  return broadcastTo(
    defined.reduce((a, b) => add(a, b)),
    out,
  );
}

/** Zeros shaped like x, untaped (a constant for reverse mode): the tangent of an input without one. */
function zerosLike(x: Tensor): Tensor {
  const g = G(x);
  return one(g, "Expand", [g.scalar(0, x.dtype), shapeOf(x)], x.dtype, x.shape);
}

/** Apply a linear map to a tangent when there is one. */
const on = (t: Tensor | undefined, f: (t: Tensor) => Tensor): Tensor | undefined => (t ? f(t) : undefined);

// ---------- elementwise binary ----------

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b);
  const out = one(G(x), "Add", [x, y], x.dtype, broadcastShapes(x.shape, y.shape));
  G(x).record(
    [x, y],
    [out],
    ([d], need) => [need[0] ? unbroadcast(d!, x.shape) : undefined, need[1] ? unbroadcast(d!, y.shape) : undefined],
    ([dx, dy]) => [tangentSum(out, dx, dy)],
  );
  return out;
}

/**
 * x + y for operands of one shape, as ONNX Sum. For residual connections before a LayerNorm: ORT fuses
 * Add → LayerNormalization into SkipLayerNormalization, whose CPU kernel (ORT 1.30) took 3.2 ms on [1024, 768]
 * where Sum + LayerNormalization take ≈ 0.35 ms; Sum keeps that fusion away.
 */
export function sum(x: Tensor, y: Tensor): Tensor {
  if (shapeStr(x.shape) !== shapeStr(y.shape))
    throw new Error(`sum: operands must have one shape, got ${shapeStr(x.shape)} and ${shapeStr(y.shape)}`);
  const out = one(G(x), "Sum", [x, y], x.dtype, x.shape);
  G(x).record(
    [x, y],
    [out],
    ([d], need) => [need[0] ? d : undefined, need[1] ? d : undefined],
    ([dx, dy]) => [tangentSum(out, dx, dy)],
  );
  return out;
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b);
  const out = one(G(x), "Sub", [x, y], x.dtype, broadcastShapes(x.shape, y.shape));
  G(x).record(
    [x, y],
    [out],
    ([d], need) => [
      need[0] ? unbroadcast(d!, x.shape) : undefined,
      need[1] ? unbroadcast(neg(d!), y.shape) : undefined,
    ],
    ([dx, dy]) => [tangentSum(out, dx, on(dy, neg))],
  );
  return out;
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b);
  const out = one(G(x), "Mul", [x, y], x.dtype, broadcastShapes(x.shape, y.shape));
  G(x).record(
    [x, y],
    [out],
    ([d], need) => [
      need[0] ? unbroadcast(mul(d!, y), x.shape) : undefined,
      need[1] ? unbroadcast(mul(d!, x), y.shape) : undefined,
    ],
    ([dx, dy]) => [
      tangentSum(
        out,
        on(dx, (t) => mul(t, y)),
        on(dy, (t) => mul(x, t)),
      ),
    ],
  );
  return out;
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b);
  const out = one(G(x), "Div", [x, y], x.dtype, broadcastShapes(x.shape, y.shape));
  // d(x/y)/dy = −(x/y)/y
  G(x).record(
    [x, y],
    [out],
    ([d], need) => [
      need[0] ? unbroadcast(div(d!, y), x.shape) : undefined,
      need[1] ? unbroadcast(neg(div(mul(d!, out), y)), y.shape) : undefined,
    ],
    ([dx, dy]) => [
      tangentSum(
        out,
        on(dx, (t) => div(t, y)),
        on(dy, (t) => neg(div(mul(t, out), y))),
      ),
    ],
  );
  return out;
}

/** x^p for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const out = one(G(x), "Pow", [x, G(x).scalar(p, x.dtype)], x.dtype, x.shape);
  const dpow = (d: Tensor) => mul(d, mul(pow(x, p - 1), p));
  G(x).record(
    [x],
    [out],
    ([d]) => [dpow(d!)],
    ([dx]) => [on(dx, dpow)],
  );
  return out;
}

/** where(cond, a, b): a where cond is true, else b. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b);
  const g = G(x);
  const out = one(g, "Where", [cond, x, y], x.dtype, broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape)));
  const zero = g.scalar(0, x.dtype);
  g.record(
    [x, y],
    [out],
    ([d], need) => [
      need[0] ? unbroadcast(where(cond, d!, zero), x.shape) : undefined,
      need[1] ? unbroadcast(where(cond, zero, d!), y.shape) : undefined,
    ],
    ([dx, dy]) => [dx || dy ? broadcastTo(where(cond, dx ?? zero, dy ?? zero), out) : undefined],
  );
  return out;
}

// ---------- elementwise unary ----------

export function neg(x: Tensor): Tensor {
  const out = one(G(x), "Neg", [x], x.dtype, x.shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [neg(d!)],
    ([dx]) => [on(dx, (t) => neg(t))],
  );
  return out;
}

export function exp(x: Tensor): Tensor {
  const out = one(G(x), "Exp", [x], x.dtype, x.shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [mul(d!, out)],
    ([dx]) => [on(dx, (t) => mul(t, out))],
  );
  return out;
}

export function log(x: Tensor): Tensor {
  const out = one(G(x), "Log", [x], x.dtype, x.shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [div(d!, x)],
    ([dx]) => [on(dx, (t) => div(t, x))],
  );
  return out;
}

/** max over axes (keepdims). Records no VJP: used only as a constant shift (e.g. in log-sum-exp). */
export function reduceMaxConst(x: Tensor, axes: number[]): Tensor {
  const g = G(x);
  const ax = axes.map((a) => normAxis(a, x.shape.length));
  const shape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  return one(g, "ReduceMax", [x], x.dtype, shape, { axes: ints(ax), keepdims: int(1) });
}

export function sqrt(x: Tensor): Tensor {
  const out = one(G(x), "Sqrt", [x], x.dtype, x.shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [div(mul(d!, 0.5), out)],
    ([dx]) => [on(dx, (t) => div(mul(t, 0.5), out))],
  );
  return out;
}

export function tanh(x: Tensor): Tensor {
  const out = one(G(x), "Tanh", [x], x.dtype, x.shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [mul(d!, sub(1, mul(out, out)))],
    ([dx]) => [on(dx, (t) => mul(t, sub(1, mul(out, out))))],
  );
  return out;
}

export function abs(x: Tensor): Tensor {
  const out = one(G(x), "Abs", [x], x.dtype, x.shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [mul(d!, sign(x))],
    ([dx]) => [on(dx, (t) => mul(t, sign(x)))],
  );
  return out;
}

/** sign(x); its derivative is zero almost everywhere, so it records no VJP (no gradient flows through it). */
export function sign(x: Tensor): Tensor {
  return one(G(x), "Sign", [x], x.dtype, x.shape);
}

/** ONNX Erf (float32 only in ORT's CPU kernels; see `erf` in nn.ts for float64 graphs). */
export function erfOp(x: Tensor): Tensor {
  const out = one(G(x), "Erf", [x], x.dtype, x.shape);
  // d erf(x)/dx = 2/√π · exp(−x²)
  const derf = (d: Tensor) => mul(d, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)));
  G(x).record(
    [x],
    [out],
    ([d]) => [derf(d!)],
    ([dx]) => [on(dx, derf)],
  );
  return out;
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const codes: Record<DType, number> = { float32: 1, float64: 11, int64: 7, bool: 9 };
  const out = one(G(x), "Cast", [x], dtype, x.shape, { to: int(codes[dtype]) });
  G(x).record(
    [x],
    [out],
    ([d]) => [cast(d!, x.dtype)],
    ([dx]) => [on(dx, (t) => cast(t, dtype))],
  );
  return out;
}

// ---------- linear algebra ----------

function transposeLast(x: Tensor): Tensor {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(x, perm);
}

/** Batched matrix product (both operands rank ≥ 2, batch dims broadcast). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) throw new Error("matmul: operands must have rank ≥ 2");
  const [m, k1] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k1 !== k2) throw new Error(`matmul: inner dims differ: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = one(G(a), "MatMul", [a, b], a.dtype, [...batch, m, n]);
  G(a).record(
    [a, b],
    [out],
    ([d], need) => [
      need[0] ? unbroadcast(matmul(d!, transposeLast(b)), a.shape) : undefined,
      need[1] ? unbroadcast(matmul(transposeLast(a), d!), b.shape) : undefined,
    ],
    ([da, db]) => [
      tangentSum(
        out,
        on(da, (t) => matmul(t, b)),
        on(db, (t) => matmul(a, t)),
      ),
    ],
  );
  return out;
}

/**
 * y = x Wᵀ + b with W [dOut, dIn] (the PyTorch/HF layout). Its own VJP so that the weight gradient is one GEMM
 * over all rows: ∂W = Σ_rows Δᵀ x (docs/kernels.md §3), not a per-batch product reduced afterwards.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const g = G(x);
  const [dOut, dIn] = w.shape as number[];
  if (x.shape[x.shape.length - 1] !== dIn)
    throw new Error(`linear: input ${shapeStr(x.shape)} does not match weight ${shapeStr(w.shape)}`);
  const shape = [...x.shape.slice(0, -1), dOut];
  const out = g.untaped(() => {
    const wt = one(g, "Transpose", [w], w.dtype, [dIn, dOut], { perm: ints([1, 0]) });
    const y = one(g, "MatMul", [x, wt], x.dtype, shape);
    return b ? one(g, "Add", [y, b], x.dtype, shape) : y;
  });
  const ins = b ? [x, w, b] : [x, w];
  const vjp = ([d]: (Tensor | undefined)[], need: boolean[]) => {
    const r = x.shape.length;
    const dx = need[0] ? matmul(d!, w) : undefined;
    let dw: Tensor | undefined;
    if (need[1]) {
      const d2 = reshape(d!, [0, -1, dOut]); // [C, rows, dOut]
      const x2 = reshape(x, [-1, dIn]); // [rows, dIn]
      dw = matmul(transposeLast(d2), x2); // [C, dOut, dIn]
    }
    const db =
      b && need[2]
        ? reduceSum(
            d!,
            Array.from({ length: r - 1 }, (_, i) => i + 1),
            false,
          )
        : undefined;
    return [dx, dw, db];
  };
  // d(x Wᵀ + b) = dx Wᵀ + x dWᵀ + db
  const jvp = ([dx, dw, db]: (Tensor | undefined)[]) => [
    tangentSum(
      out,
      on(dx, (t) => linear(t, w)),
      dw ? linear(x, dw, db) : db,
    ),
  ];
  g.record(ins, [out], vjp, jvp);
  return out;
}

// ---------- shape ops ----------

export function transpose(x: Tensor, perm: number[]): Tensor {
  const out = one(
    G(x),
    "Transpose",
    [x],
    x.dtype,
    perm.map((p) => x.shape[p]),
    { perm: ints(perm) },
  );
  const inv = perm.map((_, i) => perm.indexOf(i));
  G(x).record(
    [x],
    [out],
    ([d]) => [transpose(d!, [0, ...inv.map((p) => p + 1)])],
    ([dx]) => [on(dx, (t) => transpose(t, perm))],
  );
  return out;
}

/** Factor a dim product into (number, sorted symbolic factors); "a*b" names a product of dynamic dims. */
function factors(dims: Dim[]): { n: number; syms: string[] } {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === "number") n *= d;
    else syms.push(...d.split("*"));
  }
  return { n, syms: syms.sort() };
}

/** The size a −1 in a Reshape stands for: product(input dims) / product(other target dims), symbolically. */
function inferDim(input: Shape, others: Shape): Dim {
  const num = factors(input);
  const den = factors(others);
  const syms = num.syms.slice();
  for (const s of den.syms) {
    const i = syms.indexOf(s);
    if (i < 0) throw new Error(`reshape: cannot infer −1 from ${shapeStr(input)} and ${shapeStr(others)}`);
    syms.splice(i, 1);
  }
  const n = num.n / den.n;
  if (syms.length === 0) return n;
  return n === 1 ? syms.join("*") : [String(n), ...syms].join("*");
}

/** ONNX Reshape: 0 copies the input dim at that index, −1 is inferred. */
export function reshape(x: Tensor, dims: number[]): Tensor {
  const g = G(x);
  const known: Shape = dims.map((d, i): Dim => (d === 0 ? x.shape[i] : d));
  const shape: Shape = known.map((d) =>
    d === -1
      ? inferDim(
          x.shape,
          known.filter((v) => v !== -1),
        )
      : d,
  );
  const out = one(g, "Reshape", [x, g.constant(dims, [dims.length], "int64")], x.dtype, shape);
  g.record(
    [x],
    [out],
    ([d]) => [reshapeTo(d!, cotShape(d!, x), [d!.shape[0], ...x.shape])],
    ([dx]) => [on(dx, (t) => reshape(t, dims))],
  );
  return out;
}

function reshapeTo(x: Tensor, shapeTensor: Tensor, shape: Shape): Tensor {
  const out = one(G(x), "Reshape", [x, shapeTensor], x.dtype, shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [reshapeTo(d!, cotShape(d!, x), [d!.shape[0], ...x.shape])],
    ([dx]) => [on(dx, (t) => reshapeTo(t, shapeTensor, shape))],
  );
  return out;
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const g = G(x);
  const a = normAxis(axis, x.shape.length + 1);
  const shape = [...x.shape.slice(0, a), 1, ...x.shape.slice(a)];
  const out = one(g, "Unsqueeze", [x, g.constant([a], [1], "int64")], x.dtype, shape);
  g.record(
    [x],
    [out],
    ([d]) => [squeeze(d!, a + 1)],
    ([dx]) => [on(dx, (t) => unsqueeze(t, a))],
  );
  return out;
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const g = G(x);
  const a = normAxis(axis, x.shape.length);
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${shapeStr(x.shape)} is not 1`);
  const out = one(
    g,
    "Squeeze",
    [x, g.constant([a], [1], "int64")],
    x.dtype,
    x.shape.filter((_, i) => i !== a),
  );
  g.record(
    [x],
    [out],
    ([d]) => [unsqueeze(d!, a + 1)],
    ([dx]) => [on(dx, (t) => squeeze(t, a))],
  );
  return out;
}

/** Static slice x[start:end] along one axis whose size is static. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const g = G(x);
  const a = normAxis(axis, x.shape.length);
  const size = x.shape[a];
  if (typeof size !== "number") throw new Error("slice: the sliced axis must have a static size");
  const shape = x.shape.map((d, i) => (i === a ? end - start : d));
  const c = (v: number) => g.constant([v], [1], "int64");
  const out = one(g, "Slice", [x, c(start), c(end), c(a)], x.dtype, shape);
  g.record(
    [x],
    [out],
    ([d]) => {
      const r = d!.shape.length;
      const pads = new Array(2 * r).fill(0);
      pads[a + 1] = start;
      pads[r + a + 1] = size - end;
      return [pad(d!, pads)];
    },
    ([dx]) => [on(dx, (t) => slice(t, a, start, end))],
  );
  return out;
}

function pad(x: Tensor, pads: number[]): Tensor {
  const g = G(x);
  const r = x.shape.length;
  const shape = x.shape.map((d, i) => (typeof d === "number" ? d + pads[i] + pads[r + i] : d));
  const out = one(g, "Pad", [x, g.constant(pads, [pads.length], "int64")], x.dtype, shape);
  g.record(
    [x],
    [out],
    ([d]) => {
      const dd = d!;
      let y = dd;
      for (let i = 0; i < r; i++) {
        if (pads[i] === 0 && pads[r + i] === 0) continue;
        const n = dd.shape[i + 1] as number;
        y = slice(y, i + 1, pads[i], n - pads[r + i]);
      }
      return [y];
    },
    ([dx]) => [on(dx, (t) => pad(t, pads))],
  );
  return out;
}

/** Concatenate along an axis (sizes along it must be static). */
export function concat(xs: Tensor[], axis: number): Tensor {
  const g = G(xs[0]);
  const a = normAxis(axis, xs[0].shape.length);
  const sizes = xs.map((x) => x.shape[a]);
  if (!sizes.every((s) => typeof s === "number")) throw new Error("concat: sizes along the axis must be static");
  const total = (sizes as number[]).reduce((s, v) => s + v, 0);
  const out = one(
    g,
    "Concat",
    xs,
    xs[0].dtype,
    xs[0].shape.map((d, i) => (i === a ? total : d)),
    { axis: int(a) },
  );
  g.record(
    xs,
    [out],
    ([d], need) => {
      let off = 0;
      return xs.map((_, i) => {
        const s = sizes[i] as number;
        const r = need[i] ? slice(d!, a + 1, off, off + s) : undefined;
        off += s;
        return r;
      });
    },
    (dxs) => [
      dxs.some((t) => t)
        ? concat(
            dxs.map((t, i) => t ?? zerosLike(xs[i])),
            a,
          )
        : undefined,
    ],
  );
  return out;
}

/**
 * Split along an axis of static size into parts of the given sizes. VJP: the parts' cotangents concatenated back
 * (zeros for parts without one) — one Concat, not a zero-padded copy per part summed.
 */
export function split(x: Tensor, axis: number, sizes: number[]): Tensor[] {
  const g = G(x);
  const a = normAxis(axis, x.shape.length);
  if (x.shape[a] !== sizes.reduce((s, v) => s + v, 0))
    throw new Error(`split: sizes ${sizes.join("+")} do not add up to axis ${axis} of ${shapeStr(x.shape)}`);
  const outs = g.node(
    "Split",
    [x, g.constant(sizes, [sizes.length], "int64")],
    sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) })),
    { axis: int(a) },
  );
  g.record(
    [x],
    outs,
    (ds) => {
      const some = ds.find((d) => d !== undefined)!;
      const parts = ds.map(
        (d, i) =>
          d ??
          one(g, "Expand", [g.scalar(0, x.dtype), cotShape(some, outs[i])], x.dtype, [some.shape[0], ...outs[i].shape]),
      );
      return [one(g, "Concat", parts, x.dtype, [some.shape[0], ...x.shape], { axis: int(a + 1) })];
    },
    ([dx]) => (dx ? split(dx, a, sizes) : outs.map(() => undefined)),
  );
  return outs;
}

// ---------- reductions ----------

export function reduceSum(x: Tensor, axes: number[], keepdims = true): Tensor {
  const ax = axes.map((a) => normAxis(a, x.shape.length)).sort((p, q) => p - q);
  const out = reduceSumRaw(x, ax, keepdims);
  G(x).record(
    [x],
    [out],
    ([d]) => [expandBack(d!, x, ax, keepdims)],
    ([dx]) => [on(dx, (t) => reduceSum(t, ax, keepdims))],
  );
  return out;
}

export function reduceMean(x: Tensor, axes: number[], keepdims = true): Tensor {
  const g = G(x);
  const ax = axes.map((a) => normAxis(a, x.shape.length)).sort((p, q) => p - q);
  const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  const out = one(g, "ReduceMean", [x], x.dtype, shape, { axes: ints(ax), keepdims: int(keepdims ? 1 : 0) });
  g.record(
    [x],
    [out],
    ([d]) => [div(expandBack(d!, x, ax, keepdims), reducedCount(x, ax))],
    ([dx]) => [on(dx, (t) => reduceMean(t, ax, keepdims))],
  );
  return out;
}

/** Number of elements averaged over (a constant when the axes are static, else computed from Shape). */
function reducedCount(x: Tensor, axes: number[]): Tensor {
  const g = G(x);
  const dims = axes.map((a) => x.shape[a]);
  if (dims.every((v) => typeof v === "number"))
    return g.scalar(
      (dims as number[]).reduce((p, v) => p * v, 1),
      x.dtype,
    );
  const sizes = one(g, "Gather", [shapeOf(x), g.constant(axes, [axes.length], "int64")], "int64", [axes.length]);
  const n = one(g, "ReduceProd", [sizes], "int64", [], { keepdims: int(0) });
  return one(g, "Cast", [n], x.dtype, [], { to: int(x.dtype === "float64" ? 11 : 1) });
}

/** Broadcast a reduced cotangent back over the reduced axes of x. */
function expandBack(d: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  let y = d;
  if (!keepdims) for (const a of axes) y = unsqueeze(y, a + 1);
  return expandTo(y, cotShape(d, x), [d.shape[0], ...x.shape]);
}

function expandTo(x: Tensor, shapeTensor: Tensor, shape: Shape): Tensor {
  const out = one(G(x), "Expand", [x, shapeTensor], x.dtype, shape);
  G(x).record(
    [x],
    [out],
    ([d]) => [unbroadcast(d!, x.shape)],
    ([dx]) => [on(dx, (t) => expandTo(t, shapeTensor, shape))],
  );
  return out;
}

// ---------- neural-net primitives ----------

/** Softmax over the last axis. VJP: dx = y ⊙ (dy − Σ dy ⊙ y); JVP: dy = y ⊙ (dx − Σ dx ⊙ y) (self-adjoint). */
export function softmax(x: Tensor): Tensor {
  const r = x.shape.length;
  const out = one(G(x), "Softmax", [x], x.dtype, x.shape, { axis: int(r - 1) });
  G(x).record(
    [x],
    [out],
    ([d]) => [mul(out, sub(d!, reduceSum(mul(d!, out), [r], true)))],
    ([dx]) => [on(dx, (t) => mul(out, sub(t, reduceSum(mul(t, out), [r - 1], true))))],
  );
  return out;
}

/**
 * x̂ = (x − mean) / sqrt(var + eps) over the last axis (LayerNorm without its affine part), as primitive ONNX
 * ops in the node order ORT's LayerNorm fusion recognises (its fused float64 kernel computes in float32, so the
 * primitives keep float64 graphs exact). VJP (standard LayerNorm backward), with σ = sqrt(var + eps):
 * dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)) / σ. The JVP is the same map (the Jacobian is symmetric):
 * dx̂ = (dxc − x̂ · mean(x̂ ⊙ dxc)) / σ with dxc = dx − mean(dx), since dσ = mean(x̂ ⊙ dxc).
 */
export function normalize(x: Tensor, eps: number): Tensor {
  const g = G(x);
  const r = x.shape.length;
  const { xhat, sigma } = g.untaped(() => {
    const xc = sub(x, reduceMean(x, [-1]));
    const sigma = sqrt(add(reduceMean(pow(xc, 2), [-1]), eps));
    return { xhat: div(xc, sigma), sigma };
  });
  g.record(
    [x],
    [xhat],
    ([d]) => {
      const dd = d!;
      const m1 = reduceMean(dd, [r]);
      const m2 = reduceMean(mul(dd, xhat), [r]);
      return [div(sub(sub(dd, m1), mul(xhat, m2)), sigma)];
    },
    ([dx]) => [
      on(dx, (t) => {
        const dxc = sub(t, reduceMean(t, [-1]));
        return div(sub(dxc, mul(xhat, reduceMean(mul(dxc, xhat), [-1]))), sigma);
      }),
    ],
  );
  return xhat;
}

/** Rows of `table` (axis 0) at integer `ids`. VJP: scatter-add of the cotangent rows into a zero table. */
export function gather(table: Tensor, ids: Tensor): Tensor {
  const g = G(table);
  const rest = table.shape.slice(1);
  const out = one(g, "Gather", [table, ids], table.dtype, [...ids.shape, ...rest], { axis: int(0) });
  g.record(
    [table, ids],
    [out],
    ([d], need) => {
      if (!need[0]) return [undefined, undefined];
      const dd = d!;
      const ri = ids.shape.length;
      const C = dd.shape[0];
      // [C, ...ids, ...rest] → [...ids, C, ...rest] so that ScatterND's index prefix is the ids.
      const perm = [...Array.from({ length: ri }, (_, i) => i + 1), 0, ...rest.map((_, i) => ri + 1 + i)];
      const upd = transpose(dd, perm);
      const zshape = concatShapes([shapeOf(table, 0, 1), shapeOf(dd, 0, 1), shapeOf(table, 1)]);
      const zeros = one(g, "Expand", [g.scalar(0, table.dtype), zshape], table.dtype, [table.shape[0], C, ...rest]);
      const idx = one(g, "Unsqueeze", [ids, g.constant([ri], [1], "int64")], "int64", [...ids.shape, 1]);
      const acc = one(g, "ScatterND", [zeros, idx, upd], table.dtype, [table.shape[0], C, ...rest], {
        reduction: { kind: "string", value: "add" },
      });
      return [transpose(acc, [1, 0, ...rest.map((_, i) => i + 2)]), undefined];
    },
    ([dtable]) => [on(dtable, (t) => gather(t, ids))],
  );
  return out;
}
