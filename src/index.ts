/** entk public library API. The CLI (src/cli) is a thin shell over what is exported here. */

export { materializeGrad } from "./model/gradients.ts";
export { grad } from "./model/graph/autodiff.ts";
export { Graph } from "./model/graph/graph.ts";
export {
  createPromptModel,
  createTrainableModel,
  type LossAndGrad,
  type PromptModel,
  type PromptModelOptions,
  type TrainableModel,
  type TrainableModelOptions,
} from "./model/prompt-model.ts";
export { DEVICES, type Device, type ProviderStatus, probeProvider } from "./model/runtime/providers.ts";
export { getSession, type RuntimeOptions, releaseSessions } from "./model/runtime/session.ts";
export {
  buildTokenizerFiles,
  bytesToUnicode,
  type EntkTokenizer,
  loadTokenizer,
  SYNTHETIC_PROMPT_WORDS,
  type SyntheticTokenizerOptions,
  tokenizerFromJson,
  writeTokenizerFiles,
} from "./tokenizer/index.ts";
export { loadCheckpointInto, replaceCheckpoint } from "./training/checkpoint-dir.ts";
export { clipCoefficient, clipGradNorm, globalGradNorm } from "./training/clip.ts";
export { engineModelFactory } from "./training/engine-model.ts";
export { evaluate, predict } from "./training/evaluate.ts";
export { hfCheckpointIO, materializeParams, TOKENIZER_FILES, tensorValues } from "./training/hf-checkpoint.ts";
export { accuracy, argmaxRows, classificationMetrics, f1Binary, type MetricName } from "./training/metrics.ts";
export {
  createOptimizer,
  NO_DECAY,
  OPTIMIZER_KINDS,
  type Optimizer,
  type OptimizerKind,
  type OptimizerOptions,
  usesWeightDecay,
} from "./training/optimizers.ts";
export { Rng, shuffleInPlace } from "./training/rng.ts";
export { type FinetuneModelFactory, type RunFinetuneOptions, runFinetune } from "./training/run.ts";
export { EpochSampler, type SamplerState } from "./training/sampler.ts";
export { linearWarmupFactor } from "./training/schedule.ts";
export { type FinetuneData, loadFinetuneData } from "./training/task-data.ts";
export { type CurvePoint, type FinetuneOptions, type FinetuneResult, finetune } from "./training/trainer.ts";
export type { CheckpointIO, FinetuneLossAndGrad, FinetuneModel, LabeledExample } from "./training/types.ts";
export { hfHubCacheDir, hfOffline } from "./util/hf-cache.ts";
export { ENTK_VERSION } from "./version.ts";
