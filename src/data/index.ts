export { formatCsv, PANDAS_NA, parseCsv } from "./csv.ts";
export {
  DATASET_MARKER,
  DATASET_VARIANTS,
  type DatasetVariant,
  isDatasetVariant,
  readDatasetVariant,
  writeDatasetVariant,
} from "./dataset-variant.ts";
export {
  downloadFile,
  extractTar,
  type FetchDatasetsOptions,
  fetchDatasets,
  LMBFF_DATASETS_URL,
  resplitCr,
  splitCustrev,
  swapSst2,
} from "./fetch.ts";
export {
  DEFAULT_SEEDS,
  formatTaskRows,
  generateKShot,
  KSHOT_MODES,
  type KShotMode,
  type KShotOptions,
  type KShotTask,
  REFERENCE_SEED_ORDER,
  readTaskRows,
  seedSchedule,
  type TaskRows,
} from "./kshot.ts";
export { columnIndex, type DataLayout, parseDataLayout } from "./layout.ts";
export {
  accuracy,
  argmaxRows,
  classificationMetrics,
  f1Binary,
  type MetricName,
  metricForTask,
  metricRecord,
  predictLabels,
  type ScoredMetrics,
  scoreMetrics,
} from "./metrics.ts";
export { MT19937 } from "./mt19937.ts";
export {
  type Example,
  type FieldMapping,
  minColumns,
  type ReadOptions,
  type ReadResult,
  readCsv,
  readGeneric,
  readSplit,
  readTsv,
} from "./readers.ts";
export { EVAL_SUBSAMPLE_SEED, subsample, subsampleIndices, writeEvalSubsample } from "./subsample.ts";
