import { includeParam } from "../../src/kernels/params.ts";
import type { ParamFilter } from "../../src/kernels/types.ts";
import type { ExampleGradFactors, ParamInfo } from "../../src/model/grad-factors.ts";
import { seededUniform } from "../../src/model/prompt-model.ts";

/** Deterministic PRNG (the engine's mulberry32) so fixtures are reproducible. */
export const rng = seededUniform;

export const DIMS = { h: 6, ff: 10, vocab: 23, pos: 16 };

/** Parameter list of the synthetic model (the order brute force flattens gradients in). */
export function syntheticParams(): ParamInfo[] {
  const { h, ff, vocab, pos } = DIMS;
  const p = (name: string, shape: number[]): ParamInfo => ({ name, shape, size: shape.reduce((a, b) => a * b, 1) });
  return [
    p("roberta.embeddings.word_embeddings.weight", [vocab, h]),
    p("roberta.embeddings.position_embeddings.weight", [pos, h]),
    p("roberta.embeddings.LayerNorm.weight", [h]),
    p("roberta.embeddings.LayerNorm.bias", [h]),
    p("roberta.encoder.layer.0.attention.self.query.weight", [h, h]),
    p("roberta.encoder.layer.0.attention.self.query.bias", [h]),
    p("roberta.encoder.layer.0.attention.self.key.weight", [h, h]),
    p("roberta.encoder.layer.0.attention.self.key.bias", [h]),
    p("roberta.encoder.layer.0.intermediate.dense.weight", [ff, h]),
    p("roberta.encoder.layer.0.intermediate.dense.bias", [ff]),
    p("roberta.encoder.layer.0.output.dense.weight", [h, ff]),
    p("roberta.encoder.layer.0.output.dense.bias", [h]),
    p("roberta.pooler.dense.weight", [h, h]),
    p("lm_head.dense.weight", [h, h]),
    p("lm_head.dense.bias", [h]),
    p("lm_head.layer_norm.weight", [h]),
    p("lm_head.decoder.weight", [vocab, h]),
    p("lm_head.bias", [vocab]),
  ];
}

/**
 * Random factors shaped like a tiny RoBERTa: q/k sharing X, the FFN's two linears, key bias in `zero`, LayerNorms
 * dense, embeddings and the decoder sparse. About a quarter of the cotangent and input entries are exactly 0, so
 * sign(0) = 0 and exact-zero gradient entries are exercised.
 */
export function syntheticExample(seed: number, T: number, C: number, labelWords = [3, 7]): ExampleGradFactors {
  const r = rng(seed);
  const { h, ff, vocab } = DIMS;
  const arr = (n: number) =>
    Float32Array.from({ length: n }, () => (r() < 0.25 ? 0 : Math.round((r() * 2 - 1) * 64) / 32));
  const X = arr(T * h);
  const ids = new Set<number>();
  for (let t = 0; t < T; t++) ids.add(Math.floor(r() * vocab));
  const rows = Int32Array.from([...ids].sort((a, b) => a - b));
  // An FFN linear with its own input (X drawn before Δ).
  const ffn = (name: string, dIn: number, dOut: number) => ({
    weight: `roberta.encoder.layer.0.${name}.dense.weight`,
    bias: `roberta.encoder.layer.0.${name}.dense.bias`,
    T,
    dIn,
    dOut,
    X: arr(T * dIn),
    delta: arr(C * T * dOut),
  });
  return {
    C,
    linears: [
      {
        weight: "roberta.encoder.layer.0.attention.self.query.weight",
        bias: "roberta.encoder.layer.0.attention.self.query.bias",
        T,
        dIn: h,
        dOut: h,
        X,
        delta: arr(C * T * h),
      },
      { weight: "roberta.encoder.layer.0.attention.self.key.weight", T, dIn: h, dOut: h, X, delta: arr(C * T * h) },
      ffn("intermediate", h, ff),
      // dIn > dOut: the sliced contraction cuts its input columns instead of its output rows (sliceAxes).
      ffn("output", ff, h),
      {
        weight: "lm_head.dense.weight",
        bias: "lm_head.dense.bias",
        T: 1,
        dIn: h,
        dOut: h,
        X: arr(h),
        delta: arr(C * h),
      },
    ],
    dense: [
      { param: "roberta.embeddings.LayerNorm.weight", size: h, values: arr(C * h) },
      { param: "roberta.embeddings.LayerNorm.bias", size: h, values: arr(C * h) },
      { param: "lm_head.layer_norm.weight", size: h, values: arr(C * h) },
    ],
    sparse: [
      {
        param: "roberta.embeddings.word_embeddings.weight",
        numRows: vocab,
        width: h,
        rows,
        values: arr(C * rows.length * h),
      },
      {
        param: "roberta.embeddings.position_embeddings.weight",
        numRows: DIMS.pos,
        width: h,
        rows: Int32Array.from({ length: T }, (_, t) => t + 2),
        values: arr(C * T * h),
      },
      {
        param: "lm_head.decoder.weight",
        numRows: vocab,
        width: h,
        rows: Int32Array.from(labelWords.slice(0, C)).sort(),
        values: arr(C * C * h),
      },
      { param: "lm_head.bias", numRows: 1, width: vocab, rows: Int32Array.from([0]), values: arr(C * vocab) },
    ],
    zero: ["roberta.encoder.layer.0.attention.self.key.bias", "roberta.pooler.dense.weight"],
  };
}

/** Dense float64 per-example gradients [C][grad_dim] over the included params, built with plain loops. */
export function denseGradients(ex: ExampleGradFactors, filter: ParamFilter = {}): Float64Array[] {
  const params = syntheticParams().filter((p) => includeParam(p.name, filter));
  const offset = new Map<string, number>();
  let dim = 0;
  for (const p of params) {
    offset.set(p.name, dim);
    dim += p.size;
  }
  const out: Float64Array[] = [];
  for (let c = 0; c < ex.C; c++) {
    const g = new Float64Array(dim);
    for (const l of ex.linears) {
      const ow = offset.get(l.weight);
      if (ow !== undefined)
        for (let o = 0; o < l.dOut; o++)
          for (let i = 0; i < l.dIn; i++)
            for (let t = 0; t < l.T; t++)
              g[ow + o * l.dIn + i] += l.delta[(c * l.T + t) * l.dOut + o] * l.X[t * l.dIn + i];
      const ob = l.bias === undefined ? undefined : offset.get(l.bias);
      if (ob !== undefined)
        for (let o = 0; o < l.dOut; o++) for (let t = 0; t < l.T; t++) g[ob + o] += l.delta[(c * l.T + t) * l.dOut + o];
    }
    for (const d of ex.dense) {
      const od = offset.get(d.param);
      if (od !== undefined) for (let k = 0; k < d.size; k++) g[od + k] = d.values[c * d.size + k];
    }
    for (const s of ex.sparse) {
      const os = offset.get(s.param);
      if (os === undefined) continue;
      s.rows.forEach((row, i) => {
        for (let k = 0; k < s.width; k++) g[os + row * s.width + k] = s.values[(c * s.rows.length + i) * s.width + k];
      });
    }
    out.push(g);
  }
  return out;
}

/** Brute-force K[i, c, j, c'] with optional sign on either side, float64. */
export function bruteKernel(
  train: ExampleGradFactors[],
  evals: ExampleGradFactors[],
  signTrain: boolean,
  signEval: boolean,
  filter: ParamFilter = {},
): Float64Array {
  const C = train[0].C;
  const f = (v: Float64Array, s: boolean) => (s ? v.map(Math.sign) : v);
  const gt = train.map((e) => denseGradients(e, filter).map((v) => f(v, signTrain)));
  const ge = evals.map((e) => denseGradients(e, filter).map((v) => f(v, signEval)));
  const K = new Float64Array(train.length * C * evals.length * C);
  for (const [i, ga] of gt.entries())
    for (const [c, a] of ga.entries())
      for (const [j, gb] of ge.entries())
        for (const [c2, b] of gb.entries()) {
          let s = 0;
          for (let k = 0; k < a.length; k++) s += a[k] * b[k];
          K[((i * C + c) * evals.length + j) * C + c2] = s;
        }
  return K;
}
