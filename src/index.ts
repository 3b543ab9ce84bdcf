/** entk public library API. The CLI (src/cli) is a thin shell over what is exported here. */

export {
  ceResidual,
  DYNAMICS_LOSSES,
  type DynamicsLoss,
  discreteDynamics,
  type LinearDynamicsProblem,
  linearSchedule,
  mseDynamics,
  predictDynamics,
} from "./analyses/dynamics.ts";
export { type DynamicsJobOptions, type DynamicsSummary, runDynamics } from "./analyses/dynamics-job.ts";
export { type LinearizeOptions, type LinearizeSummary, linearize, logitsAt } from "./analyses/linearize.ts";
export { taskVector, taskVectorTensors } from "./analyses/task-vectors.ts";
export * from "./data/index.ts";
export * as metrics from "./data/metrics.ts";
export {
  ConfigError,
  configHash,
  loadSweepConfig,
  type MethodConfig,
  parseMethodSpec,
  parseSweepConfig,
  type SweepConfig,
  validateSweepConfig,
} from "./experiments/config.ts";
export {
  type Executor,
  type ExecutorRegistry,
  type JobContext,
  type RecordInput,
  registryExecutor,
} from "./experiments/executor.ts";
export { ftExecutor, parseFtMethod } from "./experiments/ft-executor.ts";
export { expandJobs, gridPoints, type Job, type JobSpec } from "./experiments/jobs.ts";
export { kernelExecutor, parseKernelMethod, recordMetrics } from "./experiments/kernel-executor.ts";
export {
  type EntryChecker,
  loadMethodModules,
  type MethodModule,
  type MethodVariant,
  registerMethodModule,
} from "./experiments/method-modules.ts";
export { type MachineInfo, RECORD_SCHEMA, type ResultRecord } from "./experiments/records.ts";
export { type RunOnceOptions, type RunOnceResult, runConfig, runOnce } from "./experiments/run-once.ts";
export { type RunSweepOptions, runSweep, type SweepSummary } from "./experiments/runner.ts";
export { parseShard, type Shard, selectShard } from "./experiments/shard.ts";
export { ensureSplit, type SplitRequest, splitDirOf } from "./experiments/splits.ts";
export { ResultsStore, readResults, readResultsFile } from "./experiments/store.ts";
export { defaultExecutors, engineFtExecutor } from "./experiments/wiring.ts";
export { cachedFactorSource } from "./kernels/cache.ts";
export { cacheGroup, cacheInfo, listCacheEntries, pruneCache, useCacheGroup } from "./kernels/cache-admin.ts";
export {
  DEFAULT_CACHE_CAP,
  DEFAULT_CACHE_SHARE,
  defaultCacheBudget,
  envCacheMax,
  factorCaching,
  resolveCacheBudget,
} from "./kernels/cache-budget.ts";
export { computeKernels, type KernelOptions, type KernelResult } from "./kernels/compute.ts";
export { predictExampleFactorBytes, predictFactorBytes, predictKernelBlockBytes } from "./kernels/disk.ts";
export { exampleKey, type GradientModel, modelFactorSource } from "./kernels/model-source.ts";
export {
  type KernelMeta,
  type KernelMetaInput,
  readKernel,
  readKernelMeta,
  type SplitRecord,
  writeKernelOutputs,
} from "./kernels/output.ts";
export { gradDim, includeParam } from "./kernels/params.ts";
export { defaultMemoryBytes, type KernelPlan, parseBytes, planKernels } from "./kernels/plan.ts";
export {
  type FactorInput,
  type FactorSource,
  FORMULAS,
  type Formula,
  type KernelName,
  type ParamFilter,
  STRATEGIES,
  type Strategy,
} from "./kernels/types.ts";
export { type FeatureOptions, modelFeatures } from "./model/features.ts";
export { materializeGrad } from "./model/gradients.ts";
export { grad } from "./model/graph/autodiff.ts";
export { jvp as graphJvp } from "./model/graph/forward-mode.ts";
export { Graph } from "./model/graph/graph.ts";
export { repoCacheDir, validateRepoId } from "./model/hub/cache.ts";
export { type HubOptions, hubEndpoint, hubToken, type PullResult, pullModel } from "./model/hub/pull.ts";
export { type ResolvedModel, type ResolveOptions, resolveCachedModel, resolveModelDir } from "./model/hub/resolve.ts";
export { type InitOptions, initModel, type TokenizerWriter } from "./model/init/init.ts";
export { ARCHS, type Arch, PRESETS, type Preset, presetConfig } from "./model/init/presets.ts";
export { createJvpModel, type Direction, type JvpModel, type JvpResult, jvp } from "./model/jvp.ts";
export { createLinearizedModel } from "./model/linearized-model.ts";
export { type LoadModelOptions, loadModel } from "./model/load.ts";
export { LORA_ADAPTERS_FILE, LORA_CONFIG_FILE, readLoraAdapters, writeLoraAdapters } from "./model/lora-file.ts";
export {
  createPromptModel,
  createTrainableModel,
  densifyRows,
  type LossAndGrad,
  type PromptModel,
  type PromptModelOptions,
  type SparseRows,
  scatterRows,
  type TrainableModel,
  type TrainableModelOptions,
} from "./model/prompt-model.ts";
export {
  DEVICES,
  type Device,
  type ProviderStatus,
  probeProvider,
} from "./model/runtime/providers.ts";
export { getSession, type RuntimeOptions, releaseSessions } from "./model/runtime/session.ts";
export {
  CLASSIFIER,
  checkOutputs,
  LORA_TARGETS,
  type LoraSpec,
  type LoraTarget,
  loraNames,
  type ModelVariant,
  variantParamSpecs,
} from "./model/variant.ts";
export { initLoraTensors, mergeLora, type NewTensor, withLora, withTensors } from "./model/variant-weights.ts";
export { type LoadedCheckpoint, loadWeightsFromDir } from "./model/weights/checkpoint.ts";
export { modelConfigToJson, parseModelConfig, readModelConfig } from "./model/weights/config.ts";
export { fileSha256, weightsHash } from "./model/weights/hash.ts";
export { headNames, type ParamSpec, parameterSpecs, wordEmbeddingsName } from "./model/weights/params.ts";
export {
  readSafetensorsHeader,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type TensorToWrite,
  writeSafetensors,
} from "./model/weights/safetensors.ts";
export type { LoadedWeights, ModelConfig, TensorRef } from "./model/weights/types.ts";
export { type BaselineOptions, type BaselineResult, runProbe, runZeroShot } from "./pipelines/baselines.ts";
export { type RunFinetuneOptions, runFinetune } from "./pipelines/finetune.ts";
export {
  defaultCacheDir,
  type KernelJobOptions,
  predictJobDisk,
  runKernelJob,
} from "./pipelines/kernel-job.ts";
export { type Probe, probeLogits } from "./pipelines/probe-logits.ts";
export {
  type FinetuneData,
  loadFinetuneData,
  loadPromptedSplits,
  type PromptedSplits,
  type PromptedSplitsOptions,
} from "./pipelines/prompted-splits.ts";
export { variantWeights } from "./pipelines/variant.ts";
export { type ZeroShotResult, zeroShot } from "./pipelines/zero-shot.ts";
export {
  decodeForDisplay,
  type EncodedExample,
  encodeExamples,
  encodeNoPrompt,
  encodePieces,
  encodePrompt,
  listTasks,
  loadTask,
  loadTaskFile,
  overrideTask,
  PAPER_TASKS,
  type Piece,
  PROMPTS_DIR,
  type PromptOptions,
  parseMapping,
  parseTask,
  parseTemplate,
  resolveLabelWords,
  type TaskDef,
  type TaskEncoder,
  taskEncoder,
  validateTemplate,
} from "./prompts/index.ts";
export { aggregate, type Cell, formatMeanStd } from "./report/aggregate.ts";
export { paperTable, paperValue } from "./report/paper.ts";
export { type ReportOptions, renderReport, writeReport } from "./report/report.ts";
export {
  type AsymModel,
  asymFit,
  asymPredict,
  checkSolveOptions,
  DEFAULT_HYPER,
  type FitInput,
  type GridEntry,
  type KernelSolver,
  type LogisticModel,
  type LstsqModel,
  logisticFit,
  logisticPredict,
  lstsqFit,
  lstsqPredict,
  type Mat as KernelMatrix,
  mat as kernelMatrix,
  type PredictInput,
  PreparedSquare,
  readSolverInputs,
  resultPaths,
  SOLVER_NAMES,
  SOLVERS,
  type SolveOptions,
  type SolveOutput,
  type SolveResult,
  type SolverHyper,
  type SolverInputs,
  type SolverName,
  type SolverSplit,
  type SplitMetrics,
  type SvmModel,
  solveKernelDir,
  solveKernels,
  svcFit,
  svcPredict,
  svrFit,
  svrPredict,
  symEig,
  targetsFromLabels,
} from "./solvers/index.ts";
export { type MultinomialModel, probeClassifier, probeFit, probeScores } from "./solvers/multinomial.ts";
export { fitProbe, probePredict } from "./solvers/probe.ts";
export {
  GPT3_ENCODER,
  robertaTokenizerJson,
  robertaVocabFromGpt2,
  writeRobertaTokenizer,
} from "./tokenizer/bpe-gpt2.ts";
export {
  buildTokenizerFiles,
  bytesToUnicode,
  type EntkTokenizer,
  loadTokenizer,
  SYNTHETIC_PROMPT_WORDS,
  type SyntheticTokenizerOptions,
  TOKENIZER_FILES,
  tokenizerFromJson,
  writeTokenizerFiles,
} from "./tokenizer/index.ts";
export { loadCheckpointInto, replaceCheckpoint } from "./training/checkpoint-dir.ts";
export { clipCoefficient, clipGradNorm, globalGradNorm } from "./training/clip.ts";
export { engineModelFactory } from "./training/engine-model.ts";
export { evaluate, predict } from "./training/evaluate.ts";
export { hfCheckpointIO, materializeParams, tensorValues } from "./training/hf-checkpoint.ts";
export { linearizedCheckpointIO, linearizedModelFactory } from "./training/linearized.ts";
export {
  createOptimizer,
  NO_DECAY,
  OPTIMIZER_KINDS,
  type Optimizer,
  type OptimizerKind,
  type OptimizerOptions,
  usesWeightDecay,
} from "./training/optimizers.ts";
export * from "./training/pretrain/index.ts";
export { Rng, shuffleInPlace } from "./training/rng.ts";
export { EpochSampler, type SamplerState } from "./training/sampler.ts";
export { linearWarmupFactor } from "./training/schedule.ts";
export {
  type CurvePoint,
  type FinetuneHyperparams,
  type FinetuneOptions,
  type FinetuneResult,
  finetune,
} from "./training/trainer.ts";
export type {
  CheckpointIO,
  FinetuneLossAndGrad,
  FinetuneModel,
  FinetuneModelFactory,
  LabeledExample,
  SparseGrad,
} from "./training/types.ts";
export { mergeLoraCheckpoint, variantCheckpointIO } from "./training/variant-checkpoint.ts";
export { canonicalJson, contentKey } from "./util/canonical.ts";
export { OptionError, type OptionNamer } from "./util/errors.ts";
export { hfHubCacheDir, hfOffline } from "./util/hf-cache.ts";
export { ENTK_VERSION } from "./version.ts";
