import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { downloadFileToCacheDir, HubApiError, modelInfo, pathsInfo } from "@huggingface/hub";
import { writeFileAtomic } from "../../util/atomic.ts";
import { OptionError } from "../../util/errors.ts";
import { hfHubCacheDir } from "../../util/hf-cache.ts";
import { insideDir } from "../../util/io.ts";
import { type Progress, progressBar } from "../../util/progress.ts";
import { COMMIT_RE, repoCacheDir, snapshotDir, validateRepoId, validateRevision } from "./cache.ts";
import { filesToFetch, shardFiles } from "./files.ts";
import { hubFetch } from "./http.ts";

export interface HubOptions {
  revision?: string;
  /** Hub cache directory (default: hfHubCacheDir()). */
  cacheDir?: string;
  /** Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** Access token (default: $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, else the token file huggingface-cli login wrote). */
  token?: string;
  /** No progress bar. */
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface PullResult {
  repoId: string;
  revision: string;
  commit: string;
  /** The snapshot directory: a model directory whose files link into the cache's blobs. */
  dir: string;
  files: string[];
  downloaded: string[];
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, "");
}

/** The token as huggingface_hub finds it: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then $HF_TOKEN_PATH / $HF_HOME/token. */
export function hubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const t = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (t) return t.trim();
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "huggingface");
  const path = env.HF_TOKEN_PATH || join(home, "token");
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

function explain(err: unknown, repoId: string, revision: string, endpoint: string, token: string | undefined): Error {
  if (err instanceof HubApiError) {
    if (err.statusCode === 401 || err.statusCode === 403)
      return new Error(
        `${repoId}@${revision}: access denied by ${endpoint} (HTTP ${err.statusCode}); ` +
          (token ? "the token in HF_TOKEN lacks access to this repo" : "private or gated repo: set HF_TOKEN"),
      );
    if (err.statusCode === 404)
      return new Error(`${repoId}@${revision}: repo or revision not found on ${endpoint} (HTTP 404)`);
    return new Error(`${repoId}@${revision}: ${endpoint} answered ${err.message}`);
  }
  const msg = err instanceof Error ? err.message : String(err);
  if ((err as { network?: boolean }).network)
    return Object.assign(
      new OptionError(
        "offline",
        (n) =>
          `${repoId}@${revision}: cannot reach ${endpoint}: ${msg}; use HF_HUB_OFFLINE=1 / ${n("offline")} ` +
          "to run from the cache",
      ),
      { network: true },
    );
  if (err instanceof TypeError && /fetch failed/.test(msg))
    return Object.assign(
      new OptionError(
        "offline",
        (n) =>
          `${repoId}@${revision}: cannot reach ${endpoint} (${String((err as { cause?: unknown }).cause ?? msg)}); ` +
          `use HF_HUB_OFFLINE=1 / ${n("offline")} to run from the cache`,
      ),
      { network: true },
    );
  return err instanceof Error ? err : new Error(msg);
}

/** fetch that counts the bytes of full-file downloads (GETs without a Range header) into a progress bar. */
function countingFetch(progress: () => Progress, base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const resp = await base(input, init);
    const headers = new Headers(init?.headers);
    const url = String(input instanceof Request ? input.url : input);
    if (!resp.body || headers.has("Range") || !url.includes("/resolve/")) return resp;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        progress().tick(chunk.byteLength);
        ctl.enqueue(chunk);
      },
    });
    return new Response(resp.body.pipeThrough(counter), {
      status: resp.status,
      statusText: resp.statusText,
      headers: resp.headers,
    });
  };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(c as Buffer);
  return h.digest("hex");
}

/**
 * Download a model repo's config, safetensors weights (incl. shards) and tokenizer files into the Hugging Face
 * cache with @huggingface/hub, at the commit the revision points to now; writes refs/<revision>. Files already in
 * the snapshot are skipped. LFS blobs are checked against their sha256 (the weights hash relies on blob names).
 */
export async function pullModel(repoId: string, opts: HubOptions = {}): Promise<PullResult> {
  validateRepoId(repoId);
  const env = opts.env ?? process.env;
  const revision = validateRevision(opts.revision ?? "main");
  const cacheDir = opts.cacheDir ?? hfHubCacheDir(env);
  const hubUrl = opts.endpoint ?? hubEndpoint(env);
  const token = opts.token ?? hubToken(env);
  if (token && !token.startsWith("hf_"))
    throw new Error("the Hugging Face token (HF_TOKEN or the saved token) must start with 'hf_'");
  const common = { hubUrl, ...(token ? { accessToken: token } : {}) };
  const repo = { type: "model" as const, name: repoId };

  let bar: Progress | undefined;
  let total = 0;
  const progress = () => (bar ??= progressBar("download", total, { quiet: opts.quiet, unit: "B" }));
  const fetchFn = countingFetch(progress, hubFetch({ env }));
  // downloadFileToCacheDir logs each file with console.debug (stdout); keep stdout for results.
  const debug = console.debug;
  console.debug = () => {};
  try {
    const info = await modelInfo({
      ...common,
      name: repoId,
      revision,
      additionalFields: ["sha", "filePaths"],
      fetch: fetchFn,
    });
    const commit = info.sha;
    if (!COMMIT_RE.test(commit ?? "")) throw new Error(`${repoId}@${revision}: the Hub returned no commit hash`);
    const available: string[] = info.filePaths ?? [];
    const plan = filesToFetch(repoId, available);
    if (revision !== commit) await writeFileAtomic(insideDir(repoCacheDir(repoId, cacheDir), "refs", revision), commit);
    const dir = snapshotDir(repoId, commit, cacheDir);

    const downloaded: string[] = [];
    const fetchFiles = async (files: string[]) => {
      for (const f of files) insideDir(dir, f); // names from the Hub never write outside the snapshot
      const todo = files.filter((f) => !existsSync(join(dir, f)));
      if (todo.length === 0) return;
      const infos = await pathsInfo({ ...common, repo, paths: todo, revision: commit, fetch: fetchFn });
      const byPath = new Map(infos.map((i) => [i.path, i]));
      total = todo.reduce((s, f) => s + (byPath.get(f)?.size ?? 0), 0);
      bar?.stop();
      bar = undefined;
      for (const path of todo) {
        const meta = byPath.get(path);
        if (!meta) throw new Error(`${repoId}@${commit}: ${path} is listed but the Hub has no information on it`);
        const local = await downloadFileToCacheDir({
          ...common,
          repo,
          path,
          revision: commit,
          cacheDir,
          fetch: fetchFn,
        });
        const size = statSync(local).size;
        const blob = realpathSync(local);
        const bad =
          size !== meta.size
            ? `${size} bytes instead of ${meta.size}`
            : meta.lfs && (await sha256File(blob)) !== meta.lfs.oid
              ? `sha256 differs from ${meta.lfs.oid}`
              : undefined;
        if (bad) {
          rmSync(local, { force: true });
          rmSync(blob, { force: true });
          throw new Error(`${repoId}@${commit}: download of ${path} is corrupt (${bad}); removed it, try again`);
        }
        downloaded.push(path);
      }
    };
    await fetchFiles(plan.files);
    const files = [...plan.files];
    if (plan.sharded) {
      const shards = shardFiles(join(dir, "model.safetensors.index.json"));
      const unknown = shards.filter((s) => !available.includes(s));
      if (unknown.length > 0) throw new Error(`${repoId}@${commit}: the index names shards the repo lacks: ${unknown}`);
      await fetchFiles(shards);
      files.push(...shards);
    }
    return { repoId, revision, commit, dir, files, downloaded };
  } catch (err) {
    throw explain(err, repoId, revision, hubUrl, token);
  } finally {
    console.debug = debug;
    bar?.stop();
  }
}
