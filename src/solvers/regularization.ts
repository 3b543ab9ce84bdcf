import type { PreparedSquare } from "./lstsq-core.ts";
import { type Mat, mat } from "./matrix.ts";

/**
 * The reference's regularization (docs/protocol.md §6): K ← K + r·σ_max(K)·I for r ≠ 0, σ_max the largest singular
 * value. Returns the shift r·σ_max added to the diagonal (0 when r = 0).
 */
export function regularizationShift(prep: PreparedSquare, r: number): number {
  if (!Number.isFinite(r) || r < 0) throw new Error(`regularization must be a finite number ≥ 0, got ${r}`);
  return r === 0 ? 0 : r * prep.sigmaMax();
}

/** A copy of the square matrix K with `shift` added to its diagonal. */
export function addDiagonal(k: Mat, shift: number): Mat {
  const out = mat(k.rows, k.cols, Float64Array.from(k.data));
  if (shift !== 0) for (let i = 0; i < k.rows; i++) out.data[i * k.cols + i] += shift;
  return out;
}
