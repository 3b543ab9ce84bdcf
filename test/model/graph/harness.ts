import * as ort from "onnxruntime-node";
import { grad } from "../../../src/model/graph/autodiff.ts";
import { Graph } from "../../../src/model/graph/graph.ts";
import type { Tensor } from "../../../src/model/graph/tensor.ts";

/** Deterministic uniform(−1, 1) numbers (mulberry32). */
export function rand(n: number, seed: number, scale = 1): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

const prod = (s: number[]) => s.reduce((p, v) => p * v, 1);

/**
 * Check the VJP of `f` (float64 graph) against float64 central finite differences: for random inputs and C = 2
 * random output cotangents u_c, the autodiff result must equal ∂⟨u_c, f(x)⟩/∂x for every input.
 */
export async function checkVjp(
  inputShapes: number[][],
  f: (...xs: Tensor[]) => Tensor,
  opts: { seed?: number; h?: number; tol?: number; inputs?: Float64Array[] } = {},
): Promise<number> {
  const C = 2;
  const g = new Graph("float64");
  const xs = inputShapes.map((s, i) => g.input(`x${i}`, "float64", s));
  const y = f(...xs);
  const yShape = y.shape as number[];
  const u = g.input("u", "float64", [C, ...yShape]);
  const dxs = grad([y], [u], xs);
  const session = await ort.InferenceSession.create(g.toModel([y, ...dxs]));
  const seed = opts.seed ?? 1;
  const vals = opts.inputs ?? inputShapes.map((s, i) => rand(prod(s), seed + i));
  const uv = rand(C * prod(yShape), seed + 100);
  const feeds = (v: Float64Array[]) => {
    const r: Record<string, ort.Tensor> = { u: new ort.Tensor("float64", uv, [C, ...yShape]) };
    v.forEach((a, i) => {
      r[xs[i].name] = new ort.Tensor("float64", a, inputShapes[i]);
    });
    return r;
  };
  const outNames = session.outputNames;
  const base = await session.run(feeds(vals));
  const h = opts.h ?? 1e-6;
  let worst = 0;
  for (let i = 0; i < xs.length; i++) {
    const analytic = base[outNames[1 + i]].data as Float64Array;
    const n = vals[i].length;
    for (let j = 0; j < n; j++) {
      const fx = async (delta: number) => {
        const v = vals.map((a) => a.slice());
        v[i][j] += delta;
        const out = (await session.run(feeds(v)))[outNames[0]].data as Float64Array;
        return out;
      };
      const yp = await fx(h);
      const ym = await fx(-h);
      for (let c = 0; c < C; c++) {
        let fd = 0;
        for (let k = 0; k < yp.length; k++) fd += (uv[c * yp.length + k] * (yp[k] - ym[k])) / (2 * h);
        const a = analytic[c * n + j];
        const err = Math.abs(a - fd) / Math.max(1, Math.abs(fd));
        worst = Math.max(worst, err);
      }
    }
  }
  await session.release();
  return worst;
}
