import { type AdamStep, type SgdStep, SimdUpdates } from "./simd/update-kernels.ts";
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
   * One update at learning rate `lr` with gradients `gradScale · grads` (gradScale: the clipping factor), each
   * product rounded to float32 before the update uses it, as torch's clip_grad_norm_ leaves p.grad.
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
 * One parameter's update in a step. `dense(off, g)`: elements [off, off + g.length) with gradient g. `zero(off, n)`:
 * elements [off, off + n) with gradient 0 — the same expressions as `dense` with g = 0 written in, so a sparse
 * gradient gives the dense result bit for bit; absent when a zero gradient leaves θ and the state as they are.
 */
interface Kernel {
  dense(off: number, g: Float32Array): void;
  zero?(off: number, n: number): void;
}

/** The updates of one step: `kernel(name, p)` for every parameter with a dense or a row-sparse gradient. */
function applyUpdates(
  params: Map<string, Float32Array>,
  grads: Map<string, Float32Array>,
  sparse: Map<string, SparseGrad> | undefined,
  kernel: (name: string, p: Float32Array) => Kernel,
): void {
  const lookup = (name: string) => {
    const p = params.get(name);
    if (!p) throw new Error(`optimizer: gradient for unknown parameter '${name}'`);
    return p;
  };
  for (const [name, g] of grads) {
    const p = lookup(name);
    if (p.length !== g.length)
      throw new Error(`optimizer: gradient of '${name}' has ${g.length} elements, parameter has ${p.length}`);
  }
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
  }
  for (const [name, g] of grads) kernel(name, lookup(name)).dense(0, g);
  for (const [name, s] of sparse ?? []) {
    const p = lookup(name);
    const k = kernel(name, p);
    const w = s.width;
    // Untouched rows between touched ones form runs: one zero() call per run.
    let next = 0; // first row not yet updated
    s.rows.forEach((r, i) => {
      if (r > next) k.zero?.(next * w, (r - next) * w);
      k.dense(r * w, s.values.subarray(i * w, (i + 1) * w));
      next = r + 1;
    });
    if (p.length > next * w) k.zero?.(next * w, p.length - next * w);
  }
}

/**
 * torch.optim.SGD without momentum: d = g + λθ (L2-style decay), θ ← θ − lr·d. With `sign`, g is first replaced by
 * sign(g) (SignGD-FT: `--optimizer sgd --optimizer_variant signgd`, sign taken after clipping, which a positive
 * clip factor does not change; sign(0) = 0).
 */
class Sgd implements Optimizer {
  readonly kind: OptimizerKind;
  private t = 0;
  private simd = new SimdUpdates();
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
    applyUpdates(params, grads, sparse, (name, p) => {
      const k: SgdStep = { scale: gradScale, wd: usesWeightDecay(name) ? this.wd : 0, lr, sign: this.sign };
      const kernel: Kernel = { dense: (off, g) => this.simd.sgd(p.subarray(off, off + g.length), g, k) };
      if (k.wd !== 0) kernel.zero = (off, n) => this.simd.sgd(p.subarray(off, off + n), undefined, k);
      return kernel;
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

/**
 * transformers.AdamW (4.4.2, correct_bias = True), per element, at step t, in torch's float32 order:
 *   g ← fl(c·g)                                       (clipping: p.grad.mul_(clip_coef), c = gradScale)
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + ((1−β₂)g)g
 *   θ ← θ − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)      (ε added to √v, not to the bias-corrected √v̂)
 *   θ ← θ − lr·λ·θ                                    (decoupled decay, applied after the Adam update)
 */
class AdamW implements Optimizer {
  readonly kind = "adam" as const;
  private t = 0;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  private simd = new SimdUpdates();
  /**
   * Per row-sparse parameter, the rows whose moments may be nonzero. The others (rows that never had a gradient:
   * most of the vocabulary) have m = v = 0, where the update reduces to the weight decay alone, exactly.
   * Derived state: rebuilt from m and v after a restore.
   */
  private live = new Map<string, Uint8Array>();
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
    this.t += 1;
    const base = {
      // torch clips first (p.grad.mul_(clip_coef), a float32 product) and then runs AdamW on the clipped gradient.
      scale: gradScale,
      b1,
      b2,
      c1: 1 - b1,
      c2: 1 - b2,
      // Bias corrections folded into one step size per step (the closed form above).
      stepSize: (lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t),
      eps: this.eps,
    };
    applyUpdates(params, grads, sparse, (name, p) => {
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const k: AdamStep = { ...base, decay: usesWeightDecay(name) && this.wd > 0 ? lr * this.wd : 0 };
      const at = (off: number, n: number) => [p, m, v].map((a) => a.subarray(off, off + n)) as Float32Array[];
      return {
        dense: (off, g) => {
          const [pp, mm, vv] = at(off, g.length);
          this.simd.adamw(pp, mm, vv, g, k);
        },
        zero: (off, n) => {
          const w = sparse!.get(name)!.width;
          const live = this.liveRows(name, w);
          // Runs of rows with the same state: live rows take the full update with g = 0, the others the decay.
          for (let r = off / w, end = (off + n) / w; r < end; ) {
            let q = r + 1;
            while (q < end && live[q] === live[r]) q++;
            const [pp, mm, vv] = at(r * w, (q - r) * w);
            if (live[r]) this.simd.adamw(pp, mm, vv, undefined, k);
            else if (k.decay !== 0) this.simd.decay(pp, k.decay);
            r = q;
          }
        },
      };
    });
    for (const [name, s] of sparse ?? []) {
      const live = this.liveRows(name, s.width);
      for (const r of s.rows) live[r] = 1;
    }
  }
  /** The live-row flags of `name` (rows of `width`), computed from m and v when not yet known. */
  private liveRows(name: string, width: number): Uint8Array {
    let live = this.live.get(name);
    if (!live) {
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      live = new Uint8Array(m.length / width);
      for (let i = 0; i < m.length; i++) if (m[i] !== 0 || v[i] !== 0) live[Math.floor(i / width)] = 1;
      this.live.set(name, live);
    }
    return live;
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
    // The moments were restored in place: the live rows are recomputed from them.
    this.live.clear();
  }
}
