import { describe, expect, it } from "vitest";
import { erf, gelu, layerNorm } from "../../../src/model/graph/nn.ts";
import * as op from "../../../src/model/graph/ops.ts";
import { checkVjp, rand } from "./harness.ts";

const TOL = 1e-7;

describe("per-op VJPs equal float64 central finite differences (C = 2 stacked cotangents)", () => {
  const cases: [
    string,
    number[][],
    (
      ...x: import("../../../src/model/graph/tensor.ts").Tensor[]
    ) => import("../../../src/model/graph/tensor.ts").Tensor,
  ][] = [
    [
      "add with broadcasting",
      [
        [2, 3, 4],
        [3, 1],
      ],
      (a, b) => op.add(a, b),
    ],
    [
      "sum (same shapes)",
      [
        [2, 3],
        [2, 3],
      ],
      (a, b) => op.mul(op.sum(a, b), a),
    ],
    ["sub with broadcasting", [[4], [2, 3, 4]], (a, b) => op.sub(a, b)],
    [
      "mul with broadcasting",
      [
        [2, 1, 4],
        [3, 4],
      ],
      (a, b) => op.mul(a, b),
    ],
    [
      "div",
      [
        [2, 3],
        [2, 3],
      ],
      (a, b) => op.div(a, op.add(op.mul(b, b), 1)),
    ],
    ["pow", [[5]], (a) => op.pow(op.add(op.mul(a, a), 0.5), 1.5)],
    ["sqrt", [[5]], (a) => op.sqrt(op.add(op.mul(a, a), 0.5))],
    ["exp, neg, tanh", [[5]], (a) => op.tanh(op.neg(op.exp(a)))],
    ["abs", [[6]], (a) => op.abs(a)],
    [
      "matmul batched, broadcast rhs",
      [
        [2, 3, 4],
        [4, 5],
      ],
      (a, b) => op.matmul(a, b),
    ],
    [
      "matmul broadcast lhs",
      [
        [3, 4],
        [2, 4, 2],
      ],
      (a, b) => op.matmul(a, b),
    ],
    ["linear with bias", [[2, 3, 4], [5, 4], [5]], (x, w, b) => op.linear(x, w, b)],
    ["transpose", [[2, 3, 4]], (a) => op.mul(op.transpose(a, [2, 0, 1]), op.transpose(a, [2, 0, 1]))],
    ["reshape", [[2, 6]], (a) => op.mul(op.reshape(a, [0, 2, 3]), op.reshape(a, [2, 2, -1]))],
    ["unsqueeze/squeeze", [[3, 2]], (a) => op.mul(op.squeeze(op.unsqueeze(a, 1), 1), a)],
    ["slice", [[2, 5]], (a) => op.slice(op.mul(a, a), 1, 1, 4)],
    [
      "concat",
      [
        [2, 2],
        [2, 3],
      ],
      (a, b) => op.concat([op.mul(a, a), b], 1),
    ],
    [
      "split (unequal parts, one unused)",
      [[2, 7]],
      (a) => {
        const [p, q] = op.split(op.mul(a, a), 1, [2, 3, 2]);
        return op.concat([op.mul(p, 2), q], 1);
      },
    ],
    ["reduceSum keepdims", [[2, 3, 4]], (a) => op.mul(op.reduceSum(a, [1], true), a)],
    ["reduceSum drop", [[2, 3, 4]], (a) => op.reduceSum(op.mul(a, a), [0, 2], false)],
    ["reduceMean", [[2, 3, 4]], (a) => op.mul(op.reduceMean(a, [-1], true), a)],
    ["softmax", [[2, 5]], (a) => op.softmax(a)],
    ["normalize", [[2, 6]], (a) => op.normalize(a, 1e-5)],
    ["layerNorm", [[2, 6], [6], [6]], (x, g, b) => layerNorm(x, g, b, 1e-5).y],
    ["erf (float64 series)", [[6]], (a) => erf(op.mul(a, 2))],
    ["gelu", [[6]], (a) => gelu(op.mul(a, 3))],
    ["where", [[2, 3], [3]], (a, b) => op.where(op.cast(op.sign(op.add(a, 0.2)), "bool"), a, op.mul(b, b))],
  ];
  for (const [name, shapes, f] of cases) {
    it(name, async () => {
      expect(await checkVjp(shapes, f)).toBeLessThan(TOL);
    });
  }

  it("gather (embedding rows, repeated ids accumulate)", async () => {
    // ids are fixed integers; only the table is differentiated.
    const { Graph } = await import("../../../src/model/graph/graph.ts");
    void Graph;
    const worst = await checkVjp([[5, 3]], (t) => {
      const g = t.graph as import("../../../src/model/graph/graph.ts").Graph;
      const ids = g.constant([1, 4, 1, 0], [2, 2], "int64");
      return op.mul(op.gather(t, ids), op.gather(t, ids));
    });
    expect(worst).toBeLessThan(TOL);
  });

  it("the finite-difference check fails on a wrong rule", async () => {
    // sign() records no VJP: differentiating x·sign(x)… via abs but claiming d|x| = 0 must be caught.
    const worst = await checkVjp([[4]], (a) => op.mul(op.sign(a), a), { inputs: [rand(4, 9)] });
    // d(sign(x)·x)/dx = sign(x) here (sign itself is flat), so this one is right…
    expect(worst).toBeLessThan(TOL);
    // …whereas treating a non-constant factor as constant is wrong and detected.
    const bad = await checkVjp([[4]], (a) => {
      const g = a.graph as import("../../../src/model/graph/graph.ts").Graph;
      const frozen = g.untaped(() => op.mul(a, a));
      return op.mul(frozen, a);
    });
    expect(bad).toBeGreaterThan(1e-3);
  });
});

describe("float32 GELU (its own VJP: δ ⊙ GELU′(x))", () => {
  it("equals tfjs autodiff of the erf-form GELU", async () => {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-cpu");
    await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
    await tf.setBackend("cpu");
    const { Graph } = await import("../../../src/model/graph/graph.ts");
    const { grad } = await import("../../../src/model/graph/autodiff.ts");
    const ort = await import("onnxruntime-node");
    const n = 64;
    const g = new Graph("float32");
    const x = g.input("x", "float32", [n]);
    const u = g.input("u", "float32", [2, n]);
    const y = gelu(x);
    const [dx] = grad([y], [u], [x]);
    const s = await ort.InferenceSession.create(g.toModel([y, dx]));
    const xv = Float32Array.from(rand(n, 3, 4)); // x ∈ (−4, 4): both tails and the curved middle
    const uv = Float32Array.from(rand(2 * n, 4));
    const r = await s.run({ x: new ort.Tensor("float32", xv, [n]), u: new ort.Tensor("float32", uv, [2, n]) });
    const got = r[s.outputNames[1]].data as Float32Array;
    const tfGelu = (t: import("@tensorflow/tfjs-core").Tensor) =>
      tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.div(t, Math.SQRT2)), 1));
    const d = tf.grad(tfGelu)(tf.tensor1d(xv)).dataSync();
    let worst = 0;
    for (let c = 0; c < 2; c++)
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[c * n + i] - uv[c * n + i] * d[i]));
    expect(worst).toBeLessThan(2e-6);
    await s.release();
  });
});
