/**
 * The masked-LM output layer as ONE graph piece with its own VJP: the full-vocabulary projection z = h Wᵀ + b
 * ([M, V]) and the mean softmax cross-entropy against integer labels. Fusing them keeps every pass over the [M, V]
 * matrix that is not a GEMM to a minimum (the vocabulary part dominates a small model's step): the gradient
 * G = softmax(z) − onehot(y) is formed once, unscaled, and the loss cotangent d/M is applied to the [M, H], [V, H]
 * and [V] results instead. One-hot label matrices are never built.
 */
import { type Graph, int } from "./graph.ts";
import type { Shape, Tensor } from "./tensor.ts";

const G = (t: Tensor): Graph => t.graph as Graph;
const FLOAT_CODE = { float32: 1, float64: 11 } as const;

function node(g: Graph, op: string, inputs: Tensor[], like: Pick<Tensor, "dtype" | "shape">, attrs = {}): Tensor {
  return g.node(op, inputs, [{ dtype: like.dtype, shape: like.shape }], attrs)[0];
}

export interface VocabLoss {
  /** Mean cross-entropy over the M rows (a scalar). */
  loss: Tensor;
  /** The logits z [M, V] (for predictions; not differentiable through this output). */
  logits: Tensor;
}

/**
 * L = (1/M) Σ_i [logsumexp(z_i) − z_i[y_i]] with z = h Wᵀ + b, for h [M, H], W [V, H], b [V], y int64 [M].
 * VJP for the loss cotangent d ([1]; a scalar objective, so one seed), with G = softmax(z) − onehot(y) and s = d/M:
 *   ∂h = s · G W,   ∂W = Gᵀ (s · h),   ∂b = s · Σ_i G_i.
 * M must be ≥ 1 at run time.
 */
export function vocabCrossEntropy(h: Tensor, w: Tensor, b: Tensor, labels: Tensor): VocabLoss {
  const g = G(h);
  const [V, H] = w.shape as number[];
  if (h.shape.length !== 2 || h.shape[1] !== H) throw new Error("vocabCrossEntropy: h must be [M, H] with W [V, H]");
  if (labels.dtype !== "int64" || labels.shape.length !== 1)
    throw new Error("vocabCrossEntropy: labels must be int64 [M]");
  const dt = h.dtype as "float32" | "float64";
  const M = h.shape[0];
  const mv = { dtype: h.dtype, shape: [M, V] };
  const col = { dtype: h.dtype, shape: [M, 1] };
  const scalar = { dtype: h.dtype, shape: [] };
  const f = g.untaped(() => {
    const z = node(g, "Gemm", [h, w, b], mv, { transB: int(1) });
    const logp = node(g, "LogSoftmax", [z], mv, { axis: int(1) });
    const idx = node(g, "Unsqueeze", [labels, g.constant([1], [1], "int64")], { dtype: "int64", shape: [M, 1] });
    const picked = node(g, "GatherElements", [logp, idx], col, { axis: int(1) });
    const shape = node(g, "Shape", [h], { dtype: "int64", shape: [2] });
    const mI = node(g, "Gather", [shape, g.scalar(0, "int64")], { dtype: "int64", shape: [] }, { axis: int(0) });
    const count = node(g, "Cast", [mI], scalar, { to: int(FLOAT_CODE[dt]) });
    const total = node(g, "ReduceSum", [picked], scalar, { keepdims: int(0) });
    const loss = node(g, "Neg", [node(g, "Div", [total, count], scalar)], scalar);
    return { z, logp, idx, picked, count, loss };
  });
  g.record([h, w, b], [f.loss], ([d], need) => {
    if (d!.shape[0] !== 1)
      throw new Error("vocabCrossEntropy: the loss is a scalar objective; its cotangent must be [1]");
    // G = softmax(z) − onehot(y); at (i, y_i) the entry p_i[y_i] − 1. Softmax, not Exp(log p): ORT's Softmax is
    // vectorized, its elementwise Exp is not (measured 20× slower on [307, 50262]).
    const p = node(g, "Softmax", [f.z], mv, { axis: int(1) });
    const pl = node(g, "Exp", [f.picked], col);
    const upd = node(g, "Sub", [pl, g.scalar(1, h.dtype)], col);
    const Gm = node(g, "ScatterElements", [p, f.idx, upd], mv, { axis: int(1) });
    const s = node(g, "Div", [d!, f.count], { dtype: h.dtype, shape: [1] }); // [1]
    const lead = (t: Tensor, shape: Shape) =>
      node(g, "Unsqueeze", [t, g.constant([0], [1], "int64")], { dtype: h.dtype, shape: [1, ...shape] });
    const dh = need[0]
      ? lead(node(g, "Mul", [node(g, "MatMul", [Gm, w], { dtype: h.dtype, shape: [M, H] }), s], h), [M, H])
      : undefined;
    const dw = need[1]
      ? lead(node(g, "Gemm", [Gm, node(g, "Mul", [h, s], h)], { dtype: h.dtype, shape: [V, H] }, { transA: int(1) }), [
          V,
          H,
        ])
      : undefined;
    const db = need[2]
      ? lead(
          node(
            g,
            "Mul",
            [
              node(
                g,
                "ReduceSum",
                [Gm, g.constant([0], [1], "int64")],
                { dtype: h.dtype, shape: [V] },
                { keepdims: int(0) },
              ),
              s,
            ],
            { dtype: h.dtype, shape: [V] },
          ),
          [V],
        )
      : undefined;
    return [dh, dw, db];
  });
  return { loss: f.loss, logits: f.z };
}

/** Σ_i [argmax_v z_i = y_i] (first maximum), as a float scalar; not differentiable. */
export function top1Hits(z: Tensor, labels: Tensor): Tensor {
  const g = G(z);
  const M = z.shape[0];
  const am = node(g, "ArgMax", [z], { dtype: "int64", shape: [M] }, { axis: int(1), keepdims: int(0) });
  const eq = node(g, "Equal", [am, labels], { dtype: "bool", shape: [M] });
  const f = node(g, "Cast", [eq], { dtype: z.dtype, shape: [M] }, { to: int(FLOAT_CODE[z.dtype as "float32"]) });
  return node(g, "ReduceSum", [f], { dtype: z.dtype, shape: [] }, { keepdims: int(0) });
}
