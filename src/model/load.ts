import { type ResolveOptions, resolveModelDir } from "./hub/resolve.ts";
import { type LoadedCheckpoint, loadWeightsFromDir } from "./weights/checkpoint.ts";

export type LoadModelOptions = ResolveOptions;

/**
 * Load prompt-MLM weights from a model directory or a Hugging Face repo id (pulled into the HF cache on first use;
 * from the cache only when offline). F32 tensors are referenced in place (TensorRef.external).
 */
export async function loadModel(idOrDir: string, opts: LoadModelOptions = {}): Promise<LoadedCheckpoint> {
  const r = await resolveModelDir(idOrDir, opts);
  return loadWeightsFromDir(r.dir, r.repoId ? { repoId: r.repoId, revision: r.commit ?? r.revision } : {});
}
