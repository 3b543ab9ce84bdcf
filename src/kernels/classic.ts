/**
 * Classic kernels on frozen features φ(x) ∈ R^H (docs/analyses.md §5), the no-training baselines the eNTK is
 * compared with:
 *   linear      k(x, x') = ⟨φ, φ'⟩
 *   polynomial  k(x, x') = (γ⟨φ, φ'⟩ + c)^d         (defaults: γ = 1/H, c = 1, d = 3 — scikit-learn's)
 *   Gaussian    k(x, x') = exp(−‖φ − φ'‖² / 2σ²)    (default σ: the median heuristic, the median distance
 *                                                    between distinct training points)
 * A scalar kernel becomes the multi-output kernel K[i,c,j,c'] = k(x_i, x_j)·[c = c'] (independent outputs), so it
 * is written and solved exactly like an eNTK of the same task (kernel-directory layout [n_train, C, n, C]).
 */

export const CLASSIC_FORMULAS = ["linear", "poly", "rbf"] as const;
export type ClassicFormula = (typeof CLASSIC_FORMULAS)[number];

/** Whether a kernel formula name is one of the classic kernels (not an eNTK formula). */
export function isClassicFormula(f: string): f is ClassicFormula {
  return (CLASSIC_FORMULAS as readonly string[]).includes(f);
}

export interface ClassicOptions {
  degree?: number;
  /** Polynomial offset c. */
  coef0?: number;
  /** Polynomial scale γ (default 1/H). */
  gamma?: number;
  /** Gaussian bandwidth σ (default: median heuristic on the training features). */
  sigma?: number;
}

/** The hyperparameters actually used (recorded in meta.json). */
export interface ClassicParams {
  degree: number;
  coef0: number;
  gamma: number;
  sigma: number;
}

/** Features of n points, row-major [n, H], float64. */
export interface Features {
  n: number;
  H: number;
  data: Float64Array;
}

function dot(a: Features, i: number, b: Features, j: number): number {
  let s = 0;
  const H = a.H;
  const ai = i * H;
  const bj = j * H;
  for (let h = 0; h < H; h++) s += a.data[ai + h] * b.data[bj + h];
  return s;
}

function sqDist(a: Features, i: number, b: Features, j: number): number {
  let s = 0;
  const H = a.H;
  for (let h = 0; h < H; h++) {
    const d = a.data[i * H + h] - b.data[j * H + h];
    s += d * d;
  }
  return s;
}

/** Median of the pairwise distances ‖φ_i − φ_j‖ over i < j (the lower median for an even count); 1 if degenerate. */
export function medianDistance(x: Features): number {
  const d: number[] = [];
  for (let i = 0; i < x.n; i++) for (let j = i + 1; j < x.n; j++) d.push(Math.sqrt(sqDist(x, i, x, j)));
  if (d.length === 0) return 1;
  d.sort((p, q) => p - q);
  const m = d[Math.floor((d.length - 1) / 2)];
  return m > 0 ? m : 1;
}

/** Resolve defaults against the training features. */
export function classicParams(train: Features, o: ClassicOptions = {}): ClassicParams {
  const params = {
    degree: o.degree ?? 3,
    coef0: o.coef0 ?? 1,
    gamma: o.gamma ?? 1 / train.H,
    sigma: o.sigma ?? medianDistance(train),
  };
  if (!Number.isInteger(params.degree) || params.degree < 1)
    throw new Error(`polynomial kernel: degree must be an integer ≥ 1, got ${params.degree}`);
  if (!(params.sigma > 0)) throw new Error(`Gaussian kernel: σ must be > 0, got ${params.sigma}`);
  return params;
}

/** k(a_i, b_j) for every pair, [a.n, b.n]. */
export function scalarKernel(formula: ClassicFormula, a: Features, b: Features, p: ClassicParams): Float64Array {
  if (a.H !== b.H) throw new Error(`classic kernel: feature widths differ (${a.H} vs ${b.H})`);
  const out = new Float64Array(a.n * b.n);
  for (let i = 0; i < a.n; i++)
    for (let j = 0; j < b.n; j++) {
      let v: number;
      if (formula === "linear") v = dot(a, i, b, j);
      else if (formula === "poly") v = (p.gamma * dot(a, i, b, j) + p.coef0) ** p.degree;
      else v = Math.exp(-sqDist(a, i, b, j) / (2 * p.sigma * p.sigma));
      out[i * b.n + j] = v;
    }
  return out;
}

/** The multi-output kernel k ⊗ I_C in the kernel-directory layout [a.n, C, b.n, C]. */
export function expandOutputs(k: Float64Array, na: number, nb: number, C: number): Float64Array {
  const out = new Float64Array(na * C * nb * C);
  for (let i = 0; i < na; i++)
    for (let j = 0; j < nb; j++) {
      const v = k[i * nb + j];
      for (let c = 0; c < C; c++) out[((i * C + c) * nb + j) * C + c] = v;
    }
  return out;
}

/**
 * Every requested classic kernel between the "train" features and each split's (train included), in the
 * kernel-directory layout with C outputs; `features` maps split → [n, H] row-major.
 */
export function classicKernels(
  formulas: readonly ClassicFormula[],
  features: ReadonlyMap<string, Float64Array>,
  H: number,
  C: number,
  opts: ClassicOptions = {},
): { params: ClassicParams; kernels: Record<string, Partial<Record<ClassicFormula, Float64Array>>> } {
  const asFeatures = (data: Float64Array): Features => ({ n: data.length / H, H, data });
  const train = asFeatures(features.get("train") ?? new Float64Array(0));
  const params = classicParams(train, opts);
  const kernels: Record<string, Partial<Record<ClassicFormula, Float64Array>>> = {};
  for (const [split, data] of features) {
    const other = asFeatures(data);
    kernels[split] = {};
    for (const f of formulas)
      kernels[split][f] = expandOutputs(scalarKernel(f, train, other, params), train.n, other.n, C);
  }
  return { params, kernels };
}
