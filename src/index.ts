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
export { hfHubCacheDir, hfOffline } from "./util/hf-cache.ts";
export { ENTK_VERSION } from "./version.ts";
