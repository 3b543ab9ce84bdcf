import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A fake Hugging Face Hub on 127.0.0.1 (random port) serving repos in the Hub's URL layout. */
export interface FakeRepo {
  commit: string;
  files: Record<string, Uint8Array>;
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
}

export interface Recorded {
  method: string;
  url: string;
  authorization?: string;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitOid = (b: Uint8Array) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const isLfs = (name: string) => name.endsWith(".safetensors") || name.endsWith(".bin");

export async function serveHub(repos: Record<string, FakeRepo>) {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    handle(repos, req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

function error(res: ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { "Content-Type": "application/json", "X-Error-Code": code });
  res.end(JSON.stringify({ error: message }));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(repos: Record<string, FakeRepo>, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://x");
  const api = /^\/api\/models\/([^/]+(?:\/[^/]+)?)\/(revision|paths-info)\/([^/]+)$/.exec(url.pathname);
  const resolve = /^\/([^/]+(?:\/[^/]+)?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
  const repoId = api?.[1] ?? resolve?.[1];
  const repo = repoId ? repos[repoId] : undefined;
  if (!repo) return error(res, 404, "RepoNotFound", "Repository not found");
  if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`)
    return error(res, 401, "RepoNotFound", "Invalid credentials");
  const rev = decodeURIComponent((api?.[3] ?? resolve?.[2]) as string);
  if (rev !== "main" && rev !== "HEAD" && rev !== repo.commit)
    return error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);

  if (api?.[2] === "revision") {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(
      JSON.stringify({
        _id: "0123",
        id: repoId,
        sha: repo.commit,
        private: !!repo.token,
        gated: false,
        downloads: 0,
        likes: 0,
        lastModified: "2026-01-01T00:00:00.000Z",
        pipeline_tag: "fill-mask",
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      }),
    );
  }
  if (api?.[2] === "paths-info") {
    const { paths } = JSON.parse(await body(req)) as { paths: string[] };
    const out = paths
      .filter((p) => p in repo.files)
      .map((p) => {
        const b = repo.files[p];
        return {
          type: "file",
          path: p,
          size: b.length,
          oid: gitOid(b),
          ...(isLfs(p) ? { lfs: { oid: sha256(b), size: b.length, pointerSize: 134 } } : {}),
          lastCommit: { id: repo.commit, title: "init", date: "2026-01-01T00:00:00.000Z" },
        };
      });
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify(out));
  }
  const file = resolve?.[3] ?? "";
  const data = repo.files[file];
  if (!data) return error(res, 404, "EntryNotFound", `${file} does not exist`);
  const etag = isLfs(file) ? sha256(data) : gitOid(data);
  const headers: Record<string, string> = {
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: `"${etag}"`,
    "X-Repo-Commit": repo.commit,
    ...(isLfs(file) ? { "X-Linked-Etag": `"${etag}"`, "X-Linked-Size": String(data.length) } : {}),
  };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : data.length - 1, data.length - 1);
    res.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${end}/${data.length}` });
    return res.end(data.subarray(start, end + 1));
  }
  res.writeHead(200, { ...headers, "Content-Length": String(data.length) });
  res.end(data);
}
