/**
 * The dropout stream of training mode: masks drawn from mulberry32, a small seeded generator, so that one seed
 * repeats a step exactly.
 *
 * Why mulberry32 and not xoshiro128** (src/util/xoshiro.ts, the generator of entk's own seeded streams): the
 * masks decide every fine-tuning result entk has recorded (tests' expectations, reports), and another generator
 * would draw other masks. The stream is also not snapshotted: a step's masks depend only on its seed.
 */

import type { Tensor } from "./graph/tensor.ts";
import { ort } from "./runtime/session.ts";
import type { ModelConfig } from "./weights/types.ts";

/** mulberry32: a small seeded generator of uniform [0, 1) numbers (dropout masks). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fill `m` with dropout multipliers (0 with probability p, else 1/(1−p)) from the mulberry32 stream whose state
 * is `state.a`, advancing it: the same numbers as `seededUniform`, inlined (≈ 15M draws per roberta-base step).
 */
export function fillDropoutMask(state: { a: number }, m: Float32Array | Float64Array, p: number): void {
  const keep = 1 / (1 - p);
  let a = state.a;
  for (let i = 0, n = m.length; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    m[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 < p ? 0 : keep;
  }
  state.a = a;
}

/**
 * The mask feeds of one batch ([batch, seq] dims resolved to B, T): every site's mask in graph order from one
 * stream seeded with `seed`; attention-probability sites use the config's attention dropout, others the hidden one.
 */
export function dropoutMaskFeeds(
  sites: readonly { site: string; mask: Tensor }[],
  cfg: ModelConfig,
  B: number,
  T: number,
  seed: number,
  dtype: "float32" | "float64",
): Record<string, ort.Tensor> {
  const F = dtype === "float64" ? Float64Array : Float32Array;
  const feeds: Record<string, ort.Tensor> = {};
  const state = { a: seed >>> 0 };
  for (const { site, mask } of sites) {
    const p = site.endsWith("attn_probs") ? cfg.attentionProbsDropoutProb : cfg.hiddenDropoutProb;
    const dims = mask.shape.map((d) => (d === "batch" ? B : d === "seq" ? T : typeof d === "number" ? d : Number.NaN));
    const m = new F(dims.reduce((a, v) => a * v, 1));
    fillDropoutMask(state, m, p);
    feeds[mask.name] = new ort.Tensor(dtype, m, dims);
  }
  return feeds;
}
