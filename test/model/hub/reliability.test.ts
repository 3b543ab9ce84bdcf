/**
 * Issue 19 items 3 and 5: revisions are validated before any request and nothing is written outside the cache;
 * a Hub that accepts connections and never answers fails fast with the endpoint named; a download that breaks off
 * resumes with a Range request.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateRevision } from "../../../src/model/hub/cache.ts";
import { pullModel } from "../../../src/model/hub/pull.ts";
import { handSafetensors, rawF32, removeTmpDirs, tinyConfigJson, tinyTensors, tmpDir } from "../weights/helpers.ts";
import { serveHub } from "./server.ts";

afterAll(removeTmpDirs);

const enc = (s: string) => new TextEncoder().encode(s);
const COMMIT = "e".repeat(40);
const weights = handSafetensors(rawF32(tinyTensors("roberta")));
const files: Record<string, Uint8Array> = {
  "config.json": enc(JSON.stringify(tinyConfigJson("roberta"))),
  "tokenizer.json": enc('{"model": {"vocab": {}}}'),
  "tokenizer_config.json": enc("{}"),
  "special_tokens_map.json": enc("{}"),
  "model.safetensors": weights,
};

describe("Hub requests are safe", () => {
  it("refuses revisions that are not branch/tag/commit names before any request; nothing lands outside the cache", async () => {
    const hub = await serveHub({ "org/tiny": { commit: COMMIT, files } });
    try {
      const root = tmpDir("entk-hubrev-");
      const cache = join(root, "a", "b", "c");
      for (const rev of ["../../../x", "refs/../../x", "a b", "x.lock", ".hidden", "a//b", "~1", "v1:2", ""]) {
        await expect(
          pullModel("org/tiny", { cacheDir: cache, quiet: true, revision: rev, env: { HF_ENDPOINT: hub.url } }),
        ).rejects.toThrow(/invalid revision/);
      }
      expect(hub.requests).toEqual([]);
      expect(existsSync(join(root, "x"))).toBe(false);
      expect(existsSync(join(root, "a", "x"))).toBe(false);
      // Branch names with slashes stay allowed.
      expect(validateRevision("refs/pr/1")).toBe("refs/pr/1");
      expect(validateRevision("v1.0-rc_2")).toBe("v1.0-rc_2");
    } finally {
      await hub.close();
    }
  });

  it("gives up on a Hub that accepts connections but never answers, naming the endpoint, after retrying", async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => sockets.push(s)); // accepts and never answers
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const t0 = Date.now();
      const err = (await pullModel("org/tiny", {
        cacheDir: tmpDir("entk-hubhang-"),
        quiet: true,
        env: { HF_ENDPOINT: url, ENTK_HUB_TIMEOUT: "0.3", ENTK_HUB_RETRIES: "2" },
      }).catch((e) => e)) as Error & { network?: boolean };
      const took = Date.now() - t0;
      expect(err.message).toContain(url);
      expect(err.message).toMatch(
        /org\/tiny@main: cannot reach .*no answer within 0\.3 s after 3 attempts.*ENTK_HUB_TIMEOUT/,
      );
      expect(err.network).toBe(true); // so a complete cached snapshot is used instead
      expect(sockets.length).toBe(3);
      expect(took).toBeLessThan(5000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  it("resumes a download that breaks off with a Range request and checks the result", async () => {
    const hub = await serveHub({ "org/tiny": { commit: COMMIT, files } });
    const ranges: string[] = [];
    let cut = false;
    // A proxy that breaks off the first full download of the weights halfway.
    const proxy = createHttpServer(async (req, res) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host") headers[k] = v;
      if (req.headers.range) ranges.push(req.headers.range);
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const up = await fetch(hub.url + req.url, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
        redirect: "manual",
      });
      const body = Buffer.from(await up.arrayBuffer());
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (!["transfer-encoding", "content-encoding", "content-length", "connection"].includes(k)) out[k] = v;
      });
      const breakOff = !cut && req.method === "GET" && !req.headers.range && req.url?.endsWith("/model.safetensors");
      res.writeHead(up.status, { ...out, "content-length": String(body.length) });
      if (breakOff) {
        cut = true;
        res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      res.end(body);
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const cache = tmpDir("entk-hubresume-");
      const r = await pullModel("org/tiny", {
        cacheDir: cache,
        quiet: true,
        env: { HF_ENDPOINT: url, ENTK_HUB_TIMEOUT: "5" },
      });
      expect(cut).toBe(true);
      expect(ranges.some((h) => /^bytes=[1-9]\d*-$/.test(h))).toBe(true);
      const got = readFileSync(realpathSync(join(r.dir, "model.safetensors")));
      expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(weights).digest("hex"));
      expect(readdirSync(join(cache, "models--org--tiny", "blobs")).filter((f) => f.includes("incomplete"))).toEqual(
        [],
      );
    } finally {
      await new Promise<void>((ok) => proxy.close(() => ok()));
      await hub.close();
    }
  });
});
