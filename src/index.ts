/** entk public library API. The CLI (src/cli) is a thin shell over what is exported here. */

export { cachedFactorSource } from "./kernels/cache.ts";
export { computeKernels, type KernelOptions, type KernelResult } from "./kernels/compute.ts";
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
  type Strategy,
} from "./kernels/types.ts";
export { DEVICES, type Device, type ProviderStatus, probeProvider } from "./model/runtime/providers.ts";
export { hfHubCacheDir, hfOffline } from "./util/hf-cache.ts";
export { ENTK_VERSION } from "./version.ts";
