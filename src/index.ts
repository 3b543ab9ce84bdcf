/** entk public library API. The CLI (src/cli) is a thin shell over what is exported here. */

export { canonicalJson, contentKey } from "./experiments/canonical.ts";
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
export { expandJobs, gridPoints, type Job, type JobSpec } from "./experiments/jobs.ts";
export { type MachineInfo, RECORD_SCHEMA, type ResultRecord } from "./experiments/records.ts";
export { type RunSweepOptions, runSweep, type SweepSummary } from "./experiments/runner.ts";
export { parseShard, type Shard, selectShard } from "./experiments/shard.ts";
export { ResultsStore, readResults, readResultsFile } from "./experiments/store.ts";
export { defaultExecutors } from "./experiments/wiring.ts";
export { DEVICES, type Device, type ProviderStatus, probeProvider } from "./model/runtime/providers.ts";
export { aggregate, type Cell, formatMeanStd } from "./report/aggregate.ts";
export { paperTable, paperValue } from "./report/paper.ts";
export { type ReportOptions, renderReport, writeReport } from "./report/report.ts";
export { hfHubCacheDir, hfOffline } from "./util/hf-cache.ts";
export { ENTK_VERSION } from "./version.ts";
