import type { SparseGrad } from "./types.ts";

export type OptimizerKind = "sgd" | "signgd" | "adam";
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ["sgd", "signgd", "adam"];

/** Substrings that exempt a parameter from weight decay (HF `no_decay`, plus the BERT-style spelling). */
export const NO_DECAY = ["bias", "LayerNorm.weight", "layer_norm.weight"] as const;

export function usesWeightDecay(name: string): boolean {
  return !NO_DECAY.some((s) => name.includes(s));
}

export interface OptimizerOptions {
  weightDecay?: number;
  /** Adam β₁, β₂ (default 0.9, 0.999). */
  betas?: [number, number];
  /** Adam ε (default 1e-8). */
  eps?: number;
}

/**
 * An optimizer that updates the parameter arrays in place. Parameters without a gradient in `grads` or `sparse`
 * are skipped, as torch skips `p.grad is None`. `stateTensors` are the arrays to snapshot for resume (and restore
 * in place).
 */
export interface Optimizer {
  readonly kind: OptimizerKind;
  /**
   * One update at learning rate `lr` with gradients `gradScale · grads` (gradScale: the clipping factor).
   * `sparse` gradients give the result of the dense update with zero rows outside `rows`, bit for bit.
   */
  step(
    params: Map<string, Float32Array>,
    grads: Map<string, Float32Array>,
    lr: number,
    gradScale?: number,
    sparse?: Map<string, SparseGrad>,
  ): void;
  stateTensors(): Map<string, Float32Array>;
  stateMeta(): { t: number };
  setStateMeta(m: { t: number }): void;
}

export function createOptimizer(
  kind: OptimizerKind,
  params: Map<string, Float32Array>,
  opts: OptimizerOptions = {},
): Optimizer {
  const wd = opts.weightDecay ?? 0;
  if (!(wd >= 0)) throw new Error(`optimizer: weight decay must be ≥ 0, got ${wd}`);
  switch (kind) {
    case "sgd":
      return new Sgd(wd, false);
    case "signgd":
      return new Sgd(wd, true);
    case "adam":
      return new AdamW(params, wd, opts.betas ?? [0.9, 0.999], opts.eps ?? 1e-8);
    default:
      throw new Error(`optimizer: unknown kind '${kind}' (expected one of ${OPTIMIZER_KINDS.join(", ")})`);
  }
}

function checkScale(s: number): void {
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`optimizer: gradient scale must be finite and > 0, got ${s}`);
}

/**
 * An update of `n` consecutive elements: p[pOff + i] from g[gOff + i] (and the optimizer's state at pOff + i).
 * Dense gradients are one call; a sparse gradient calls it per row, with an all-zero row for untouched rows, so
 * both paths evaluate the very same expressions.
 */
type RangeUpdate = (p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number) => void;

/** The updates of one step, by parameter: each (name, param, kernel) gets every gradient of that parameter. */
function applyUpdates(
  params: Map<string, Float32Array>,
  grads: Map<string, Float32Array>,
  sparse: Map<string, SparseGrad> | undefined,
  kernel: (name: string, p: Float32Array) => { update: RangeUpdate; zeroRowsChange: boolean },
): void {
  const lookup = (name: string) => {
    const p = params.get(name);
    if (!p) throw new Error(`optimizer: gradient for unknown parameter '${name}'`);
    return p;
  };
  const dense: [Float32Array, Float32Array, RangeUpdate][] = [];
  for (const [name, g] of grads) {
    const p = lookup(name);
    if (p.length !== g.length)
      throw new Error(`optimizer: gradient of '${name}' has ${g.length} elements, parameter has ${p.length}`);
    dense.push([p, g, kernel(name, p).update]);
  }
  const rowWise: [Float32Array, SparseGrad, ReturnType<typeof kernel>][] = [];
  for (const [name, s] of sparse ?? []) {
    if (grads.has(name)) throw new Error(`optimizer: '${name}' has both a dense and a sparse gradient`);
    const p = lookup(name);
    const w = s.width;
    if (!(Number.isInteger(w) && w > 0 && p.length % w === 0))
      throw new Error(`optimizer: sparse gradient of '${name}' has width ${w}, which does not divide ${p.length}`);
    if (s.values.length !== s.rows.length * w)
      throw new Error(
        `optimizer: sparse gradient of '${name}' has ${s.values.length} values for ${s.rows.length} rows × ${w}`,
      );
    const numRows = p.length / w;
    for (let k = 0; k < s.rows.length; k++)
      if (!(s.rows[k] >= 0 && s.rows[k] < numRows && (k === 0 || s.rows[k] > s.rows[k - 1])))
        throw new Error(`optimizer: sparse gradient of '${name}': rows must be increasing in [0, ${numRows})`);
    rowWise.push([p, s, kernel(name, p)]);
  }
  for (const [p, g, update] of dense) update(p, 0, g, 0, p.length);
  for (const [p, s, { update, zeroRowsChange }] of rowWise) {
    const w = s.width;
    const zeros = new Float32Array(w);
    let k = 0;
    for (let r = 0, n = p.length / w; r < n; r++) {
      if (k < s.rows.length && s.rows[k] === r) update(p, r * w, s.values, k++ * w, w);
      else if (zeroRowsChange) update(p, r * w, zeros, 0, w);
    }
  }
}

/** The SGD/SignGD element update below over p[o, o + n) with gradient g[go, go + n). */
function sgdRange(
  p: Float32Array,
  g: Float32Array,
  o: number,
  go: number,
  n: number,
  lr: number,
  lrg: number,
  wd: number,
  sign: boolean,
): void {
  const end = o + n;
  if (sign) for (let i = o, j = go; i < end; i++, j++) p[i] -= lr * (Math.sign(g[j]) + wd * p[i]);
  else if (wd === 0) for (let i = o, j = go; i < end; i++, j++) p[i] -= lrg * g[j];
  else for (let i = o, j = go; i < end; i++, j++) p[i] -= lrg * g[j] + lr * wd * p[i];
}

/**
 * torch.optim.SGD without momentum: d = g + λθ (L2-style decay), θ ← θ − lr·d. With `sign`, g is first replaced by
 * sign(g) (SignGD-FT: `--optimizer sgd --optimizer_variant signgd`, sign taken after clipping, which a positive
 * clip factor does not change; sign(0) = 0).
 */
class Sgd implements Optimizer {
  readonly kind: OptimizerKind;
  private t = 0;
  constructor(
    private wd: number,
    private sign: boolean,
  ) {
    this.kind = sign ? "signgd" : "sgd";
  }
  step(
    params: Map<string, Float32Array>,
    grads: Map<string, Float32Array>,
    lr: number,
    gradScale = 1,
    sparse?: Map<string, SparseGrad>,
  ): void {
    checkScale(gradScale);
    const lrg = lr * gradScale;
    const sign = this.sign;
    applyUpdates(params, grads, sparse, (name) => {
      const wd = usesWeightDecay(name) ? this.wd : 0;
      const update: RangeUpdate = (p, o, g, go, n) => sgdRange(p, g, o, go, n, lr, lrg, wd, sign);
      // A zero gradient without decay leaves θ as it is (θ − 0 = θ): untouched rows are skipped.
      return { update, zeroRowsChange: wd !== 0 };
    });
    this.t += 1;
  }
  stateTensors() {
    return new Map<string, Float32Array>();
  }
  stateMeta() {
    return { t: this.t };
  }
  setStateMeta(m: { t: number }) {
    this.t = m.t;
  }
}

/** The AdamW element update below over p[o, o + n) with gradient g[go, go + n) (a plain function: V8 keeps it fast). */
function adamRange(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  o: number,
  go: number,
  n: number,
  b1: number,
  b2: number,
  c1: number,
  c2: number,
  stepSize: number,
  eps: number,
  decay: number,
): void {
  const end = o + n;
  for (let i = o, j = go; i < end; i++, j++) {
    const gi = g[j];
    const mi = (m[i] = b1 * m[i] + c1 * gi);
    const vi = (v[i] = b2 * v[i] + c2 * gi * gi);
    const pi = p[i] - (stepSize * mi) / (Math.sqrt(vi) + eps);
    p[i] = pi - decay * pi;
  }
}

/**
 * transformers.AdamW (4.4.2, correct_bias = True), per element, at step t:
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *   θ ← θ − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)      (ε added to √v, not to the bias-corrected √v̂)
 *   θ ← θ − lr·λ·θ                                    (decoupled decay, applied after the Adam update)
 */
class AdamW implements Optimizer {
  readonly kind = "adam" as const;
  private t = 0;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  constructor(
    params: Map<string, Float32Array>,
    private wd: number,
    private betas: [number, number],
    private eps: number,
  ) {
    const [b1, b2] = betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`adam: betas must lie in [0, 1), got ${betas}`);
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }
  step(
    params: Map<string, Float32Array>,
    grads: Map<string, Float32Array>,
    lr: number,
    gradScale = 1,
    sparse?: Map<string, SparseGrad>,
  ): void {
    checkScale(gradScale);
    const [b1, b2] = this.betas;
    const c1 = (1 - b1) * gradScale;
    const c2 = (1 - b2) * gradScale * gradScale;
    const eps = this.eps;
    this.t += 1;
    // Bias corrections folded into one step size per step (the closed form above).
    const stepSize = (lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    applyUpdates(params, grads, sparse, (name) => {
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const decay = usesWeightDecay(name) && this.wd > 0 ? lr * this.wd : 0;
      const update: RangeUpdate = (p, o, g, go, n) =>
        adamRange(p, m, v, g, o, go, n, b1, b2, c1, c2, stepSize, eps, decay);
      // Untouched rows still move: their moments decay and θ follows m/(√v + ε).
      return { update, zeroRowsChange: true };
    });
  }
  stateTensors() {
    const out = new Map<string, Float32Array>();
    for (const [k, a] of this.m) out.set(`m:${k}`, a);
    for (const [k, a] of this.v) out.set(`v:${k}`, a);
    return out;
  }
  stateMeta() {
    return { t: this.t };
  }
  setStateMeta(m: { t: number }) {
    this.t = m.t;
  }
}
