/** Dense gradient rows from factored per-example gradients (docs/kernels.md §3). */
import type { ExampleGradFactors, ParamInfo } from "./grad-factors.ts";

/**
 * The C dense gradient rows ∂f_c/∂param, [C, size] row-major in the parameter's own layout. Linear weights:
 * Δ_cᵀ X; linear biases: Σ_t Δ_c[t]; sparse rows scattered into zeros; parameters listed in `zero`: zeros.
 */
export function materializeGrad(f: ExampleGradFactors, param: string, info?: ParamInfo): Float32Array {
  const C = f.C;
  for (const l of f.linears) {
    if (l.weight === param) {
      const { T, dIn, dOut, X, delta } = l;
      const out = new Float32Array(C * dOut * dIn);
      for (let c = 0; c < C; c++)
        for (let t = 0; t < T; t++) {
          const xr = t * dIn;
          for (let o = 0; o < dOut; o++) {
            const d = delta[(c * T + t) * dOut + o];
            if (d === 0) continue;
            const base = (c * dOut + o) * dIn;
            for (let i = 0; i < dIn; i++) out[base + i] += d * X[xr + i];
          }
        }
      return out;
    }
    if (l.bias === param) {
      const out = new Float32Array(C * l.dOut);
      for (let c = 0; c < C; c++)
        for (let t = 0; t < l.T; t++)
          for (let o = 0; o < l.dOut; o++) out[c * l.dOut + o] += l.delta[(c * l.T + t) * l.dOut + o];
      return out;
    }
  }
  const dense = f.dense.find((d) => d.param === param);
  if (dense) return dense.values.slice();
  const sparse = f.sparse.find((s) => s.param === param);
  if (sparse) {
    const { numRows, width, rows, values } = sparse;
    const out = new Float32Array(C * numRows * width);
    for (let c = 0; c < C; c++)
      rows.forEach((r, k) => {
        out.set(
          values.subarray((c * rows.length + k) * width, (c * rows.length + k + 1) * width),
          (c * numRows + r) * width,
        );
      });
    return out;
  }
  if (f.zero.includes(param)) {
    if (!info) throw new Error(`materialize: the size of zero-gradient parameter ${param} is unknown`);
    return new Float32Array(C * info.size);
  }
  throw new Error(`materialize: unknown parameter ${param}`);
}
