import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hfHubCacheDir } from "../../util/hf-cache.ts";

/**
 * The Hugging Face hub cache layout (shared with Python's huggingface_hub):
 *   <cache>/models--<org>--<name>/{blobs/<etag>, snapshots/<commit>/<file> → ../../blobs/<etag>, refs/<revision>}
 */

export const COMMIT_RE = /^[0-9a-f]{40}$/;

/** `org/name` or `name`: letters, digits, `-`, `_`, `.`; no `--` or `..` (as the Hub enforces). */
export function validateRepoId(repoId: string): string {
  if (
    !/^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/.test(repoId) ||
    repoId.includes("--") ||
    repoId.includes("..") ||
    repoId.length > 96
  )
    throw new Error(
      `invalid Hub repo id ${JSON.stringify(repoId)} (expected "org/name" or "name": letters, digits, "-", "_", "."; ` +
        'no "--" or ".."), and no such local directory',
    );
  return repoId;
}

export function repoCacheDir(repoId: string, cacheDir = hfHubCacheDir()): string {
  return join(cacheDir, `models--${repoId.replaceAll("/", "--")}`);
}

/** Commit a revision points to in the cache: the revision itself when it is a commit hash, else refs/<revision>. */
export function cachedCommit(repoId: string, revision: string, cacheDir = hfHubCacheDir()): string | undefined {
  if (COMMIT_RE.test(revision)) return revision;
  const ref = join(repoCacheDir(repoId, cacheDir), "refs", revision);
  if (!existsSync(ref)) return undefined;
  const sha = readFileSync(ref, "utf8").trim();
  return COMMIT_RE.test(sha) ? sha : undefined;
}

export function snapshotDir(repoId: string, commit: string, cacheDir = hfHubCacheDir()): string {
  return join(repoCacheDir(repoId, cacheDir), "snapshots", commit);
}
