/**
 * The Gemm probe that calibrates the cost model's seconds (README "Planning a sweep"): the plain-Gemm shape
 * scripts/bench-kernel.ts probes with, [64, 2^19]·[128, 2^19]ᵀ on onnxruntime, repeated for about `seconds` and
 * the best run kept (the least disturbed by other work on a shared machine).
 */
import { contractDense } from "./ort-graphs.ts";

export interface ProbeResult {
  /** Best achieved GFLOP/s. */
  gflops: number;
  runs: number;
}

export async function gemmProbe(seconds = 3): Promise<ProbeResult> {
  const [R, Q, D] = [64, 128, 2 ** 19];
  const fill = (n: number, seed: number) => {
    const a = new Float32Array(n);
    let x = seed | 1;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      a[i] = ((x >>> 8) / 2 ** 24) * 2 - 1;
    }
    return a;
  };
  const a = fill(R * D, 7);
  const b = fill(Q * D, 8);
  let best = Number.POSITIVE_INFINITY;
  let runs = 0;
  const t0 = performance.now();
  // At least 3 runs (the first one also builds the session), then until the time is up.
  while (runs < 3 || performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await contractDense(a, R, b, Q, D, ["PP"]);
    best = Math.min(best, performance.now() - t);
    runs++;
  }
  return { gflops: (2 * R * Q * D) / best / 1e6, runs };
}
