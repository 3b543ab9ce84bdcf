import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hfHubCacheDir } from "../../util/hf-cache.ts";
import { insideDir } from "../../util/io.ts";

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

/**
 * A branch, tag or commit name as git (and so the Hub) allows it (`git check-ref-format`, slashes allowed): no
 * `..`, no empty, leading-dot or `.lock` components, no control characters, spaces or any of ~^:?*[\, no `@{`.
 * Checked before any request, so a revision can never name a path outside the cache's refs/.
 */
export function validateRevision(revision: string): string {
  const parts = revision.split("/");
  const bad =
    revision.length === 0 ||
    revision.length > 255 ||
    revision === "@" ||
    revision.startsWith("-") ||
    revision.endsWith(".") ||
    revision.includes("..") ||
    revision.includes("@{") ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
    /[\x00-\x20\x7f~^:?*[\\]/.test(revision) ||
    parts.some((p) => p === "" || p.startsWith(".") || p.endsWith(".lock"));
  if (bad)
    throw new Error(
      `invalid revision ${JSON.stringify(revision)} (expected a branch, tag or commit name: no "..", spaces, ` +
        "control characters, ~^:?*[\\, empty or dot-leading path parts)",
    );
  return revision;
}

export function repoCacheDir(repoId: string, cacheDir = hfHubCacheDir()): string {
  return join(cacheDir, `models--${repoId.replaceAll("/", "--")}`);
}

/** Commit a revision points to in the cache: the revision itself when it is a commit hash, else refs/<revision>. */
export function cachedCommit(repoId: string, revision: string, cacheDir = hfHubCacheDir()): string | undefined {
  if (COMMIT_RE.test(revision)) return revision;
  const ref = insideDir(repoCacheDir(repoId, cacheDir), "refs", validateRevision(revision));
  if (!existsSync(ref)) return undefined;
  const sha = readFileSync(ref, "utf8").trim();
  return COMMIT_RE.test(sha) ? sha : undefined;
}

export function snapshotDir(repoId: string, commit: string, cacheDir = hfHubCacheDir()): string {
  return insideDir(repoCacheDir(repoId, cacheDir), "snapshots", commit);
}
