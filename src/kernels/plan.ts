import { totalmem } from "node:os";

export interface PlanInput {
  nTrain: number;
  /** Bytes of all train factors (kept resident). */
  trainBytes: number;
  /** Estimated bytes of one eval example's factors (the largest expected). */
  evalExampleBytes: number;
  /** Largest eval split size. */
  nEval: number;
  C: number;
  /** Widest linear input among included tensors (1 when there are none). */
  maxDIn: number;
  memoryBytes: number;
  /** Memory already in use that the budget must also cover (the model, its sessions, the runtime); default 0. */
  baselineBytes?: number;
  /** Upper bound on the eval block (the unit of streaming, caching and resume). */
  maxEvalBlock?: number;
}

export interface KernelPlan {
  /** Eval examples whose factors are held at once. */
  evalBlock: number;
  /** Train examples per GEMM call. */
  trainBlock: number;
  /** Bytes left for the materialized rows / Gram matrices of one ORT call. */
  workBytes: number;
  memoryBytes: number;
}

/** Default memory budget: half the machine's RAM. */
export function defaultMemoryBytes(): number {
  return Math.floor(totalmem() / 2);
}

/** Largest work space one ORT call gets (materialized rows of both sides, signs, Gram matrices). */
export const MAX_WORK_BYTES = 2 ** 30;

const fmt = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Parse "8GB", "512MiB", "1.5g", "1000000" (bytes) into bytes; `what` names the flag in errors. */
export function parseBytes(text: string, what = "--memory"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`${what}: expected a size like 8GB or 512MB, got "${text}"`);
  const mult = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[
    m[2].toLowerCase() as "" | "k" | "m" | "g" | "t"
  ];
  return Math.floor(Number(m[1]) * mult);
}

/** Per ORT call, the least work space: one output row of G = Δᵀ X (with its copies, see sliceRows) per side. */
function minWorkBytes(C: number, maxDIn: number): number {
  return 4 * maxDIn * 2 * C * 6;
}

/**
 * Choose block sizes so that resident train factors + one eval block of factors + one call's work space stay within
 * `memoryBytes` (KERNELS.md §5). Peak memory then does not depend on the number of eval examples. Throws, naming
 * the need, when even the smallest workable block does not fit.
 */
export function planKernels(p: PlanInput): KernelPlan {
  const minWork = minWorkBytes(p.C, p.maxDIn);
  const base = p.baselineBytes ?? 0;
  const need = base + p.trainBytes + p.evalExampleBytes + minWork;
  if (need > p.memoryBytes)
    throw new Error(
      `--memory ${fmt(p.memoryBytes)} is too small: ${base > 0 ? `the model and runtime already use ${fmt(base)}, ` : ""}` +
        `the ${p.nTrain} train examples' gradient factors take ` +
        `${fmt(p.trainBytes)}, one eval example ${fmt(p.evalExampleBytes)}, and the smallest contraction block ` +
        `${fmt(minWork)} (at least ${fmt(need)} in all)`,
    );
  const avail = p.memoryBytes - base - p.trainBytes;
  const maxBlock = Math.max(1, Math.min(p.nEval, p.maxEvalBlock ?? 128));
  const evalBlock = Math.max(1, Math.min(maxBlock, Math.floor(avail / 2 / Math.max(1, p.evalExampleBytes))));
  // Capped: larger calls gain little GEMM speed but cost page faults on fresh memory.
  const workBytes = Math.min(MAX_WORK_BYTES, avail - evalBlock * p.evalExampleBytes);
  const perExampleRow = 4 * p.maxDIn * p.C * 6;
  const trainBlock = Math.max(1, Math.min(p.nTrain, Math.floor(workBytes / perExampleRow) - evalBlock));
  return { evalBlock, trainBlock, workBytes, memoryBytes: p.memoryBytes };
}
