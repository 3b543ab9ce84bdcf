/** Composite layers built from the primitive ops (autodiff follows the primitives). */
import type { Graph } from "./graph.ts";
import { abs, add, div, erfOp, exp, mul, neg, normalize, sign, sub } from "./ops.ts";
import type { Tensor } from "./tensor.ts";

const ERFC_COEFFS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
];

/**
 * erf(x). float32: the ONNX Erf op. float64: ORT has no float64 Erf kernel, so use Numerical Recipes' `erfcc`
 * Chebyshev fit erfc(z) = t·exp(−z² + Σ_i c_i tⁱ), t = 1/(1 + z/2), fractional error < 1.2e-7 for z ≥ 0:
 * erf(x) = sign(x)·(1 − erfc(|x|)), absolute error < 1.2e-7. It is smooth for x ≠ 0, so float64 finite
 * differences of a float64 graph check its autodiff tightly; against float32 results it adds only ~1e-7.
 */
export function erf(x: Tensor): Tensor {
  if (x.dtype === "float32") return erfOp(x);
  const c = ERFC_COEFFS;
  const z = abs(x);
  const t = div(1, add(mul(z, 0.5), 1));
  let poly = mul(t, c[9]);
  for (let i = 8; i >= 1; i--) poly = mul(t, add(poly, c[i]));
  const erfc = mul(t, exp(add(add(neg(mul(z, z)), c[0]), poly)));
  return mul(sign(x), sub(1, erfc));
}

/** x·(1 + erf(x/√2))·0.5 in the node order of HF's ONNX export, which ORT fuses into one Gelu kernel. */
function geluNodes(x: Tensor): Tensor {
  return mul(mul(x, add(erf(div(x, Math.SQRT2)), 1)), 0.5);
}

/** GELU′(x) = Φ(x) + x·φ(x) = 0.5·(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π). */
function geluDerivative(x: Tensor): Tensor {
  const cdf = mul(add(erf(div(x, Math.SQRT2)), 1), 0.5);
  return add(cdf, mul(x, mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI))));
}

/**
 * GELU, erf form (HF "gelu"). float32: its own VJP dx = δ ⊙ GELU′(x), GELU′ computed once without the C axis
 * (one multiply per cotangent instead of a chain through every primitive), and the forward nodes only feed each
 * other, so ORT fuses them into one Gelu kernel even in backward graphs. float64 (gradient checks): autodiff
 * through the primitives of the erf fit, so that finite differences of the same graph check it exactly.
 */
export function gelu(x: Tensor): Tensor {
  if (x.dtype !== "float32") return geluNodes(x);
  const g = x.graph as Graph;
  const y = g.untaped(() => geluNodes(x));
  g.record(
    [x],
    [y],
    ([d]) => [mul(d!, geluDerivative(x))],
    ([dx]) => [dx ? mul(dx, geluDerivative(x)) : undefined],
  );
  return y;
}

/** LayerNorm over the last axis: γ ⊙ x̂ + β. Returns x̂ too (its γ-gradient is Σ δ ⊙ x̂, docs/kernels.md §3). */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; xhat: Tensor } {
  const xhat = normalize(x, eps);
  return { y: add(mul(xhat, gamma), beta), xhat };
}
