/** entk public library API. The CLI (src/cli) is a thin shell over what is exported here. */
export { DEVICES, type Device, type ProviderStatus, probeProvider } from "./model/runtime/providers.ts";
export * from "./solvers/index.ts";
export { hfHubCacheDir, hfOffline } from "./util/hf-cache.ts";
export { ENTK_VERSION } from "./version.ts";
