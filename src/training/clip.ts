/**
 * torch.nn.utils.clip_grad_norm_(max_norm, norm_type=2) over all gradients together: total = ‖(‖g_p‖)_p‖₂;
 * if max_norm / (total + 1e-6) < 1, every gradient is scaled in place by that coefficient. Returns the norm
 * before clipping. The sum of squares is accumulated in float64 (torch reduces in float32), so the norm can
 * differ from torch's in the last float32 bits. `maxNorm` ≤ 0 or Infinity disables clipping.
 */
export function clipGradNorm(grads: Iterable<Float32Array>, maxNorm: number): number {
  const list = [...grads];
  let sq = 0;
  for (const g of list) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  const total = Math.sqrt(sq);
  if (!(maxNorm > 0) || maxNorm === Number.POSITIVE_INFINITY) return total;
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of list) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return total;
}
