import { totalmem } from "node:os";
import { OptionError } from "../util/errors.ts";

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
  /** What the plan counts against `memoryBytes` (bytes); their sum is at most the budget. */
  parts?: {
    baseline: number;
    train: number;
    /** evalBlock × the largest eval example's factors. */
    evalBlock: number;
    /** The contraction sessions' arena: ARENA_FACTOR × workBytes. */
    arena: number;
    reserve: number;
  };
}

/** Default memory budget: half the machine's RAM. */
export function defaultMemoryBytes(): number {
  return Math.floor(totalmem() / 2);
}

/** Largest work space one ORT call gets (materialized rows of both sides, signs, Gram matrices). */
export const MAX_WORK_BYTES = 2 ** 29;

/**
 * Resident bytes of onnxruntime's CPU arena per byte of one contraction call's work space. The arena grows by
 * regions of doubling size and never shrinks (measured on the roberta-base bench, memory patterns off: 0.86 GB
 * resident after calls of up to 512 MiB); the rest is a margin for its fragmentation over a long run.
 */
export const ARENA_FACTOR = 2;

/**
 * Kept free for what is not counted: garbage between collections (engine outputs already copied out), the
 * allocator's freed but unreturned pages, kernel accumulators. A fraction of the budget, at least RESERVE_MIN.
 */
export const RESERVE_FRACTION = 1 / 16;
export const RESERVE_MIN = 2 ** 27;

const fmt = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Parse "8GB", "512MiB", "1.5g", "1000000" (bytes) into bytes; errors are OptionErrors of `option`. */
export function parseBytes(text: string, option = "memory"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new OptionError(option, `expected a size like 8GB or 512MB, got "${text}"`);
  const mult = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[
    m[2].toLowerCase() as "" | "k" | "m" | "g" | "t"
  ];
  return Math.floor(Number(m[1]) * mult);
}

/**
 * Refuse, before any example is processed, a budget that does not even cover what the process holds once the model
 * is loaded. The exact check (planKernels) follows the first engine call, when the runtime's working memory is known.
 */
export function checkBudgetUpFront(memoryBytes: number, heldBytes: number): void {
  if (heldBytes >= memoryBytes)
    throw new OptionError(
      "memory",
      (n) =>
        `${n("memory")} ${fmt(memoryBytes)} is too small: the model and runtime already use ${fmt(heldBytes)} ` +
        "before any example is processed",
    );
}

/** Per ORT call, the least work space: one output row of G = Δᵀ X (with its copies, see sliceRows) per side. */
function minWorkBytes(C: number, maxDIn: number): number {
  return 4 * maxDIn * 2 * C * 6;
}

/**
 * Choose block sizes so that everything resident at once stays within `memoryBytes` (docs/kernels.md §5): the baseline
 * (model, engine sessions and their arenas, runtime — measured), the train factors, one eval block of factors, the
 * contraction arena (ARENA_FACTOR × one call's work space) and a reserve. Peak memory then does not depend on the
 * number of eval examples. Throws, naming the parts, when even one eval example with the smallest work space does
 * not fit.
 */
export function planKernels(p: PlanInput): KernelPlan {
  const minWork = minWorkBytes(p.C, p.maxDIn);
  const base = p.baselineBytes ?? 0;
  const reserve = Math.max(RESERVE_MIN, Math.floor(p.memoryBytes * RESERVE_FRACTION));
  const minArena = Math.ceil(ARENA_FACTOR * minWork);
  const need = base + p.trainBytes + reserve + p.evalExampleBytes + minArena;
  if (need > p.memoryBytes)
    throw new OptionError(
      "memory",
      (n) =>
        `${n("memory")} ${fmt(p.memoryBytes)} is too small: ` +
        `${base > 0 ? `the model and runtime already use ${fmt(base)}, ` : ""}` +
        `the ${p.nTrain} train examples' gradient factors take ` +
        `${fmt(p.trainBytes)}, one eval example ${fmt(p.evalExampleBytes)}, the smallest contraction work space ` +
        `${fmt(minArena)} and the reserve ${fmt(reserve)} (at least ${fmt(need)} in all)`,
    );
  const free = p.memoryBytes - base - p.trainBytes - reserve;
  // A quarter of what is free (but at least the minimum, at most the cap) for the work space, so its arena takes at
  // most half and eval blocks the rest. Larger calls gain little GEMM speed but cost page faults on fresh memory.
  const workBytes = Math.floor(
    Math.max(minWork, Math.min(MAX_WORK_BYTES, free / 4, (free - p.evalExampleBytes) / ARENA_FACTOR)),
  );
  const arena = Math.ceil(ARENA_FACTOR * workBytes);
  const maxBlock = Math.max(1, Math.min(p.nEval, p.maxEvalBlock ?? 128));
  const evalBlock = Math.max(1, Math.min(maxBlock, Math.floor((free - arena) / Math.max(1, p.evalExampleBytes))));
  const perExampleRow = 4 * p.maxDIn * p.C * 6;
  const trainBlock = Math.max(1, Math.min(p.nTrain, Math.floor(workBytes / perExampleRow) - evalBlock));
  return {
    evalBlock,
    trainBlock,
    workBytes,
    memoryBytes: p.memoryBytes,
    parts: { baseline: base, train: p.trainBytes, evalBlock: evalBlock * p.evalExampleBytes, arena, reserve },
  };
}
