/** ‖(g_p)_p‖₂ over all gradients together, accumulated in float64 (torch reduces in float32). */
export function globalGradNorm(grads: Iterable<Float32Array>): number {
  // Four accumulators break the add-latency chain (≈ 3× faster than one on 160M elements).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (const g of grads) {
    const n = g.length;
    const n4 = n - (n % 4);
    for (let i = 0; i < n4; i += 4) {
      s0 += g[i] * g[i];
      s1 += g[i + 1] * g[i + 1];
      s2 += g[i + 2] * g[i + 2];
      s3 += g[i + 3] * g[i + 3];
    }
    for (let i = n4; i < n; i++) s0 += g[i] * g[i];
  }
  return Math.sqrt(s0 + s1 + s2 + s3);
}

/**
 * The factor torch.nn.utils.clip_grad_norm_(max_norm) multiplies every gradient by, computed in torch's float32
 * tensor arithmetic from the norm: clip_coef = max_norm / (total_norm + 1e-6), where total_norm is a float32
 * tensor, `+ 1e-6` rounds in float32 and `max_norm / tensor` is Tensor.__rtruediv__, i.e. reciprocal() * max_norm
 * (two float32 roundings); then clamped to ≤ 1. `maxNorm` ≤ 0 or Infinity disables clipping (factor 1).
 * (torch reduces the norm itself in float32; entk's is float64, so the factor can differ from torch's by an ulp of
 * the norm — the only remaining difference.)
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0) || maxNorm === Number.POSITIVE_INFINITY) return 1;
  const f = Math.fround;
  const coef = f(f(1 / f(f(norm) + f(1e-6))) * f(maxNorm));
  return Math.min(1, coef);
}

/**
 * torch.nn.utils.clip_grad_norm_ (norm_type 2): scales the gradients in place (float32 products) and returns the
 * pre-clip norm. The trainer does not call this: it passes `clipCoefficient` to the optimizer, whose update
 * kernels multiply each gradient by it and round to float32 first, exactly as this function leaves the gradients
 * (one pass over them fewer).
 */
export function clipGradNorm(grads: Iterable<Float32Array>, maxNorm: number): number {
  const list = [...grads];
  const norm = globalGradNorm(list);
  const coef = clipCoefficient(norm, maxNorm);
  if (coef < 1) for (const g of list) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
