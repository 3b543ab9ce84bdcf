/**
 * Eigenfunction localization of the eNTK over two tasks (docs/analyses.md §4; Ortiz-Jimenez et al. 2023).
 *
 * The points are (example, output) rows: each example of task t contributes one row per label word of t, and the
 * kernel is K[(x,c),(x',c')] = ⟨∇θ f_c(x), ∇θ f_c'(x')⟩ at θ₀ (the sgd eNTK). With P training rows, K = U Λ Uᵀ
 * (eigenvalues descending, ‖u_k‖ = 1), and eigenfunction k is extended to any row by the Nyström formula
 *     φ_k(x) = √P · K(x, X) u_k / λ_k,
 * which equals √P·u_k on the training rows, so φ_k has unit mean square over the training sample. The local energy
 * of φ_k on task t over a set of rows S_t is the mean square E_t(φ_k) = (1/|S_t|) Σ_{r∈S_t} φ_k(r)², and its share
 * is s_t = |S_t|·E_t / Σ_t' |S_t'|·E_t'; the shares of the two tasks sum to 1. On training rows the shares are the
 * squared norm of u_k carried by each task's rows. An eigenfunction is localized on t when s_t ≥ LOCALIZED_SHARE.
 */
import { symEig } from "../solvers/eigen.ts";
import { mat } from "../solvers/matrix.ts";

export const LOCALIZED_SHARE = 0.9;

export interface EnergyRow {
  /** 1-based rank of the eigenvalue (descending). */
  k: number;
  eigenvalue: number;
  /** Mean-square energy per task on the training rows, and the tasks' shares of it. */
  train: { energy: [number, number]; share: [number, number] };
  /** The same on held-out rows through the Nyström extension (absent without held-out rows). */
  heldout?: { energy: [number, number]; share: [number, number] };
}

export interface LocalizationResult {
  /** Rows per task: training, held-out. */
  rows: { train: [number, number]; heldout: [number, number] };
  eigenvalues: number[];
  top: EnergyRow[];
  /** Of the top-k eigenfunctions, how many are localized (share ≥ LOCALIZED_SHARE) on task A, on task B (train rows). */
  localized: { train: [number, number]; heldout?: [number, number] };
}

function energies(phi2: Float64Array, task: Uint8Array): { energy: [number, number]; share: [number, number] } {
  const sum = [0, 0];
  const cnt = [0, 0];
  for (let r = 0; r < phi2.length; r++) {
    sum[task[r]] += phi2[r];
    cnt[task[r]]++;
  }
  const total = sum[0] + sum[1];
  return {
    energy: [cnt[0] ? sum[0] / cnt[0] : 0, cnt[1] ? sum[1] / cnt[1] : 0],
    share: [total > 0 ? sum[0] / total : 0, total > 0 ? sum[1] / total : 0],
  };
}

/**
 * Local energies of the top-k eigenfunctions of the symmetric P×P kernel `K` over rows labelled by `task` (0 = A,
 * 1 = B), and on held-out rows from the Q×P cross kernel `Kho` (row q against every training row).
 */
export function localEnergies(
  K: Float64Array,
  task: Uint8Array,
  topK: number,
  heldout?: { K: Float64Array; task: Uint8Array },
): LocalizationResult {
  const P = task.length;
  if (K.length !== P * P) throw new Error(`localEnergies: kernel has ${K.length} entries, expected ${P}×${P}`);
  const Q = heldout?.task.length ?? 0;
  if (heldout && heldout.K.length !== Q * P)
    throw new Error(`localEnergies: held-out kernel has ${heldout.K.length} entries, expected ${Q}×${P}`);
  const eig = symEig(mat(P, P, K));
  const order = Array.from(eig.values.keys()).sort((a, b) => eig.values[b] - eig.values[a]);
  const k = Math.min(topK, P);
  const top: EnergyRow[] = [];
  const loc = { train: [0, 0] as [number, number], heldout: heldout ? ([0, 0] as [number, number]) : undefined };
  const sqrtP = Math.sqrt(P);
  for (let i = 0; i < k; i++) {
    const idx = order[i];
    const lambda = eig.values[idx];
    const u = eig.vectors!.subarray(idx * P, (idx + 1) * P);
    const phi2 = new Float64Array(P);
    for (let r = 0; r < P; r++) phi2[r] = P * u[r] * u[r];
    const row: EnergyRow = { k: i + 1, eigenvalue: lambda, train: energies(phi2, task) };
    if (heldout && lambda > 0) {
      const h2 = new Float64Array(Q);
      for (let q = 0; q < Q; q++) {
        let s = 0;
        for (let r = 0; r < P; r++) s += heldout.K[q * P + r] * u[r];
        const phi = (sqrtP * s) / lambda;
        h2[q] = phi * phi;
      }
      row.heldout = energies(h2, heldout.task);
    }
    for (const [which, e] of [
      ["train", row.train],
      ["heldout", row.heldout],
    ] as const) {
      const acc = loc[which];
      if (!acc || !e) continue;
      if (e.share[0] >= LOCALIZED_SHARE) acc[0]++;
      if (e.share[1] >= LOCALIZED_SHARE) acc[1]++;
    }
    top.push(row);
  }
  const count = (t: Uint8Array): [number, number] => {
    let b = 0;
    for (const v of t) b += v;
    return [t.length - b, b];
  };
  return {
    rows: { train: count(task), heldout: heldout ? count(heldout.task) : [0, 0] },
    eigenvalues: order.map((i) => eig.values[i]),
    top,
    localized: loc.heldout ? { train: loc.train, heldout: loc.heldout } : { train: loc.train },
  };
}
