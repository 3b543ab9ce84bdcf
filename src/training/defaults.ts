/**
 * Fine-tuning defaults, declared once: the trainer fills missing options from here, and `entk finetune`, sweep
 * configs (`kind: ft`) and `entk run`'s `ft:` specs take their defaults and help texts from here too.
 */
export const FINETUNE_DEFAULTS = {
  optimizer: "adam",
  /** Peak learning rate. */
  lr: 5e-5,
  batchSize: 8,
  /** Optimizer steps. */
  steps: 1000,
  /** Evaluate dev every N steps. */
  evalEvery: 100,
  warmupSteps: 0,
  weightDecay: 0,
  /** Global gradient-norm clip (0 disables). */
  maxGradNorm: 1,
  /** Seed of the shuffling and dropout generators. */
  seed: 42,
  evalBatchSize: 8,
  /** AdamW's moment decay rates and epsilon. */
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
} as const;
