import { statSync } from "node:fs";
import { resolve } from "node:path";
import { OptionError } from "../../util/errors.ts";
import { hfHubCacheDir, hfOffline } from "../../util/hf-cache.ts";
import { cachedCommit, snapshotDir, validateRepoId } from "./cache.ts";
import { missingModelFiles } from "./files.ts";
import { type HubOptions, pullModel } from "./pull.ts";

export interface ResolvedModel {
  dir: string;
  repoId?: string;
  revision?: string;
  commit?: string;
}

export interface ResolveOptions extends HubOptions {
  /** Cache only, no network (default: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE). */
  offline?: boolean;
  /** Where to report a fallback to the cache (default: stderr). */
  warn?: (msg: string) => void;
}

/** A repo id's model directory in the cache, with no network; a clear error when it or one of its files is missing. */
export function resolveCachedModel(repoId: string, opts: { revision?: string; cacheDir?: string } = {}): ResolvedModel {
  validateRepoId(repoId);
  const revision = opts.revision ?? "main";
  const cacheDir = opts.cacheDir ?? hfHubCacheDir();
  const commit = cachedCommit(repoId, revision, cacheDir);
  const hint = `run "entk model pull ${repoId}"${revision === "main" ? "" : ` (revision ${revision})`} with network access`;
  if (!commit)
    throw new Error(`${repoId}@${revision}: not in the Hugging Face cache ${cacheDir} (offline mode); ${hint}`);
  const dir = snapshotDir(repoId, commit, cacheDir);
  const missing = missingModelFiles(dir);
  if (missing.length > 0)
    throw new Error(`${repoId}@${revision}: ${dir} lacks ${missing.join(", ")} (offline mode); ${hint}`);
  return { dir, repoId, revision, commit };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * "A model directory or a Hub repo id" → a local model directory. Repo ids are pulled into the Hugging Face cache
 * on first use (and re-checked against the Hub each time, like transformers); offline they resolve from the cache.
 * When the Hub cannot be reached but the cache holds a complete snapshot, that snapshot is used with a warning.
 */
export async function resolveModelDir(idOrDir: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  if (isDirectory(idOrDir)) {
    if (opts.revision)
      throw new OptionError(
        "revision",
        (n) => `${n("revision")} applies to Hub repo ids; ${idOrDir} is a local directory`,
      );
    return { dir: resolve(idOrDir) };
  }
  if (/^(\/|\.{1,2}\/|~)/.test(idOrDir) || idOrDir.split("/").length > 2)
    throw new Error(`${idOrDir}: no such model directory (and not a Hub repo id)`);
  validateRepoId(idOrDir);
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? hfHubCacheDir(env);
  if (opts.offline ?? hfOffline(env)) return resolveCachedModel(idOrDir, { revision: opts.revision, cacheDir });
  try {
    const r = await pullModel(idOrDir, { ...opts, cacheDir });
    return { dir: r.dir, repoId: r.repoId, revision: r.revision, commit: r.commit };
  } catch (err) {
    if (!(err as { network?: boolean }).network) throw err;
    let cached: ResolvedModel;
    try {
      cached = resolveCachedModel(idOrDir, { revision: opts.revision, cacheDir });
    } catch {
      throw err;
    }
    (opts.warn ?? ((m) => process.stderr.write(`entk: warning: ${m}\n`)))(
      `${(err as Error).message.split(";")[0]}; using the cached snapshot ${cached.commit}`,
    );
    return cached;
  }
}
