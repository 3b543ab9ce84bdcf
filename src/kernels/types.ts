import type { ExampleGradFactors } from "../model/grad-factors.ts";
import type { ClassicFormula } from "./classic.ts";

/** The kernel formulas of docs/kernels.md §1 (docs/protocol.md §5). */
export const FORMULAS = ["sgd", "signgd", "asymmetric_signgd"] as const;
export type Formula = (typeof FORMULAS)[number];

/** What is written per split: each formula, plus the flipped asymmetric kernel ⟨sign g(eval), g(train)⟩. */
export type KernelName = Formula | "asymmetric_signgd_flipped" | ClassicFormula;

/** Parameter-subset flags, as the reference's `--exclude_embeddings`, `--exclude_head`, `--only_biases`. */
export interface ParamFilter {
  excludeEmbeddings?: boolean;
  excludeHead?: boolean;
  onlyBiases?: boolean;
}

/**
 * Per-example gradient factors produced on demand, e.g. by the engine's `gradFactors`. `load(start, end)` returns
 * examples [start, end) in order. `tokens` (true lengths) lets the planner size blocks before anything runs;
 * `keys` (one content hash per example: weights, tokenized input, outputs) enables caching.
 */
export interface FactorSource {
  size: number;
  load(start: number, end: number): Promise<ExampleGradFactors[]>;
  tokens?: ArrayLike<number>;
  keys?: readonly string[];
}

export type FactorInput = ExampleGradFactors[] | FactorSource;

/**
 * "materialize": every linear tensor via G = Δᵀ X; "gram": sgd always via the Gram trick, whatever its work space
 * (sign kernels still materialize);
 * "auto": per tensor, whichever the cost model says is cheaper.
 */
export const STRATEGIES = ["auto", "materialize", "gram"] as const;
export type Strategy = (typeof STRATEGIES)[number];
