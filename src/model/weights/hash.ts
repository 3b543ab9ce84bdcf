import { createHash } from "node:crypto";
import { createReadStream, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomicSync } from "../../util/atomic.ts";
import type { ModelConfig } from "./types.ts";

/**
 * Weights hash (LoadedWeights.hash) = sha256 over "entk-weights-v1", the normalized ModelConfig (JSON, fixed key
 * order) and, per weight file in order, its name and the sha256 of its full content. A file's sha256 is:
 *  - free for a file in the Hugging Face cache: a snapshot entry links to `blobs/<sha256>` for LFS files;
 *  - otherwise streamed once (~1–2 s per 500 MB) and cached beside the file in `.<name>.entk-sha256.json`, keyed by
 *    size and mtime, so later loads cost one stat (when the directory is read-only it is recomputed each time).
 */

interface HashCacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

function hashCachePath(path: string): string {
  return join(dirname(path), `.${basename(path)}.entk-sha256.json`);
}

/** The Hub cache stores LFS files as blobs named by their sha256; return it when `path` resolves to one. */
function hubBlobSha256(path: string): string | undefined {
  const real = realpathSync(path);
  const name = basename(real);
  return basename(dirname(real)) === "blobs" && /^[0-9a-f]{64}$/.test(name) ? name : undefined;
}

async function streamSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

export async function fileSha256(path: string): Promise<string> {
  const blob = hubBlobSha256(path);
  if (blob) return blob;
  const st = statSync(path);
  const cachePath = hashCachePath(path);
  try {
    const c = JSON.parse(readFileSync(cachePath, "utf8")) as HashCacheEntry;
    if (c.size === st.size && c.mtimeMs === st.mtimeMs && /^[0-9a-f]{64}$/.test(c.sha256)) return c.sha256;
  } catch {
    // no cache yet
  }
  const sha256 = await streamSha256(path);
  const after = statSync(path);
  if (after.size === st.size && after.mtimeMs === st.mtimeMs) {
    try {
      writeFileAtomicSync(cachePath, JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, sha256 }));
    } catch {
      // read-only directory: fine, just not cached
    }
  }
  return sha256;
}

export async function weightsHash(config: ModelConfig, files: { name: string; path: string }[]): Promise<string> {
  const h = createHash("sha256");
  h.update("entk-weights-v1\n");
  const keys = Object.keys(config).sort() as (keyof ModelConfig)[];
  h.update(`${JSON.stringify(keys.map((k) => [k, config[k]]))}\n`);
  for (const f of files) h.update(`${f.name} ${await fileSha256(f.path)}\n`);
  return h.digest("hex");
}
