import { type SymEig, symEig } from "./eigen.ts";
import { asymmetry, gram, type Mat, mat } from "./matrix.ts";

/**
 * Relative asymmetry max|A_ij − A_ji| / max|A_ij| up to which a square kernel is treated as symmetric (and solved as
 * (A + Aᵀ)/2): kernels are accumulated from float32 blocks over ~10⁸ parameters, so a mathematically symmetric
 * train–train kernel can differ from its transpose around the 6th digit. The asymmetric SignGD kernel differs at
 * O(1) and is solved as nonsymmetric.
 */
export const SYMMETRY_TOL = 1e-4;

/** Result of a minimum-norm least-squares solve. */
export interface LstsqSolution {
  x: Float64Array;
  /** Number of singular values above the cutoff. */
  rank: number;
  /** The cutoff rcond·σ_max below which singular values were dropped. */
  cutoff: number;
  sigmaMax: number;
  /** Human-readable warnings (rank deficiency). */
  warnings: string[];
}

/** numpy/LAPACK gelsd default: rcond = eps·max(m, n). */
export function defaultRcond(m: number, n: number): number {
  return Number.EPSILON * Math.max(m, n);
}

/**
 * A square matrix prepared for repeated minimum-norm solves of (A + shift·I) x = b: for a symmetric A the
 * eigendecomposition is computed once, and A + shift·I shares its eigenvectors (eigenvalues λ + shift), so a
 * whole regularization grid costs one decomposition. A nonsymmetric A is embedded in the symmetric
 * [[0, A'], [A'ᵀ, 0]] whose eigenvalues are ±σ_i(A') (per shift), and A'⁺ is read off from its pseudo-inverse.
 */
export class PreparedSquare {
  readonly n: number;
  readonly symmetric: boolean;
  readonly asymmetry: number;
  private eig?: SymEig;
  private sigma?: number;

  constructor(readonly a: Mat) {
    if (a.rows !== a.cols) throw new Error(`expected a square matrix, got ${a.rows}×${a.cols}`);
    this.n = a.rows;
    this.asymmetry = asymmetry(a);
    this.symmetric = this.asymmetry <= SYMMETRY_TOL;
  }

  private symmetricEig(): SymEig {
    if (!this.eig) {
      const n = this.n;
      const s = mat(n, n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) s.data[i * n + j] = 0.5 * (this.a.data[i * n + j] + this.a.data[j * n + i]);
      this.eig = symEig(s);
    }
    return this.eig;
  }

  /** Largest singular value σ_max(A) (the operator norm used by the reference's regularization). */
  sigmaMax(): number {
    if (this.sigma === undefined) {
      if (this.symmetric) {
        let m = 0;
        for (const v of this.symmetricEig().values) m = Math.max(m, Math.abs(v));
        this.sigma = m;
      } else {
        // σ_max(A)² = λ_max(AᵀA); the largest eigenvalue of AᵀA is accurate to O(eps) relative.
        let m = 0;
        for (const v of symEig(gram(this.a), { vectors: false }).values) m = Math.max(m, v);
        this.sigma = Math.sqrt(m);
      }
    }
    return this.sigma;
  }

  /** Minimum-norm solution of (A + shift·I) x = b with singular values ≤ rcond·σ_max dropped. */
  solve(b: Float64Array, shift = 0, rcond = defaultRcond(this.n, this.n)): LstsqSolution {
    if (b.length !== this.n) throw new Error(`right-hand side has length ${b.length}, expected ${this.n}`);
    return this.symmetric ? this.solveSymmetric(b, shift, rcond) : this.solveEmbedded(b, shift, rcond);
  }

  private solveSymmetric(b: Float64Array, shift: number, rcond: number): LstsqSolution {
    const { values, vectors } = this.symmetricEig();
    const lam = values.map((v) => v + shift);
    return pinvApply(this.n, lam, vectors!, b, rcond, this.n);
  }

  private solveEmbedded(b: Float64Array, shift: number, rcond: number): LstsqSolution {
    const n = this.n;
    const big = mat(2 * n, 2 * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const v = this.a.data[i * n + j] + (i === j ? shift : 0);
        big.data[i * 2 * n + (n + j)] = v;
        big.data[(n + j) * 2 * n + i] = v;
      }
    const eig = symEig(big);
    // B [z; x] = [b; 0] has minimum-norm solution z = (Aᵀ)⁺·0 = 0, x = A⁺ b.
    const rhs = new Float64Array(2 * n);
    rhs.set(b);
    const sol = pinvApply(2 * n, eig.values, eig.vectors!, rhs, rcond, n, 2);
    return { ...sol, x: sol.x.slice(n) };
  }
}

/**
 * x = Σ_{|λ_k| > cutoff} v_k (v_kᵀ b) / λ_k. `rankDiv` = 2 for the ±σ embedding, whose eigenvalues come in pairs.
 */
function pinvApply(
  n: number,
  values: Float64Array,
  vectors: Float64Array,
  b: Float64Array,
  rcond: number,
  dim: number,
  rankDiv = 1,
): LstsqSolution {
  let sigmaMax = 0;
  for (const v of values) sigmaMax = Math.max(sigmaMax, Math.abs(v));
  const cutoff = rcond * sigmaMax;
  const x = new Float64Array(n);
  let kept = 0;
  for (let k = 0; k < n; k++) {
    const lam = values[k];
    if (!(Math.abs(lam) > cutoff)) continue;
    kept++;
    const off = k * n;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += vectors[off + i] * b[i];
    const coef = dot / lam;
    for (let i = 0; i < n; i++) x[i] += coef * vectors[off + i];
  }
  const rank = Math.round(kept / rankDiv);
  const warnings: string[] = [];
  if (sigmaMax === 0) warnings.push(`the ${dim}×${dim} system matrix is zero; the solution is 0`);
  else if (rank < dim)
    warnings.push(
      `the ${dim}×${dim} system is rank-deficient (rank ${rank}; singular values ≤ ${cutoff.toExponential(3)} dropped); using the minimum-norm pseudo-inverse solution`,
    );
  return { x, rank, cutoff, sigmaMax, warnings };
}
