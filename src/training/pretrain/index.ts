export { createMlmModel, type MlmBatch, type MlmModel } from "../../model/mlm-model.ts";
export { documents, PackedWindows, tokenStream } from "./corpus.ts";
export { type MaskingOptions, maskSequences } from "./masking.ts";
export {
  type CurvePoint,
  evaluateMlm,
  heldoutBatches,
  maskingFor,
  PRETRAIN_DEFAULTS,
  type PretrainHyperparams,
  type PretrainOptions,
  type PretrainResult,
  readCurve,
  runPretrain,
} from "./pretrain.ts";
export { parseInitShape, pretrainCorpus, pretrainStart } from "./setup.ts";
