import { createHash } from "node:crypto";
import { cpSync, lstatSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullModel } from "../../../src/model/hub/pull.ts";
import { loadModel } from "../../../src/model/load.ts";
import { loadWeightsFromDir } from "../../../src/model/weights/checkpoint.ts";
import { loadTokenizer } from "../../../src/tokenizer/load.ts";
import { expectOptionRejection } from "../../helpers/option-error.ts";
import {
  handSafetensors,
  rawF32,
  refValues,
  removeTmpDirs,
  tinyConfigJson,
  tinyTensors,
  tmpDir,
} from "../weights/helpers.ts";
import { type FakeRepo, serveHub } from "./server.ts";

afterAll(removeTmpDirs);

const enc = (s: string) => new TextEncoder().encode(s);
const COMMIT = "a".repeat(40);
const tensors = tinyTensors("roberta");
const raw = rawF32(tensors);
const weights = handSafetensors(raw);
const base: Record<string, Uint8Array> = {
  "config.json": enc(JSON.stringify(tinyConfigJson("roberta"))),
  "tokenizer.json": enc('{"model": {"vocab": {}}}'),
  "tokenizer_config.json": enc("{}"),
  "special_tokens_map.json": enc("{}"),
  "README.md": enc("# not downloaded"),
};
const half = Math.floor(raw.length / 2);
const shardNames = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
const weightMap = Object.fromEntries(raw.map((t, i) => [t.name, shardNames[i < half ? 0 : 1]]));

const repos: Record<string, FakeRepo> = {
  "org/tiny": { commit: COMMIT, files: { ...base, "model.safetensors": weights } },
  "org/private": { commit: "b".repeat(40), token: "hf_secret", files: { ...base, "model.safetensors": weights } },
  "org/sharded": {
    commit: "c".repeat(40),
    files: {
      ...base,
      "model.safetensors.index.json": enc(JSON.stringify({ metadata: {}, weight_map: weightMap })),
      [shardNames[0]]: handSafetensors(raw.slice(0, half)),
      [shardNames[1]]: handSafetensors(raw.slice(half)),
    },
  },
  "org/torch": { commit: "d".repeat(40), files: { ...base, "pytorch_model.bin": enc("pickle") } },
  // Only the slow tokenizer files (no tokenizer.json), as many RoBERTa checkpoints ship.
  "org/slow-tokenizer": {
    commit: "e".repeat(40),
    files: {
      "config.json": base["config.json"],
      "model.safetensors": weights,
      "vocab.json": enc(
        JSON.stringify({ "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, a: 4, b: 5, ab: 6, "<mask>": 7 }),
      ),
      "merges.txt": enc("#version: 0.2\na b\n"),
    },
  },
};

let hub: Awaited<ReturnType<typeof serveHub>>;
beforeAll(async () => {
  hub = await serveHub(repos);
});
afterAll(async () => {
  await hub?.close();
});

const newCache = () => tmpDir("entk-hfcache-");
const online = (cacheDir: string, extra: NodeJS.ProcessEnv = {}) => ({
  cacheDir,
  quiet: true,
  env: { HF_ENDPOINT: hub.url, ...extra },
});

describe("Hub pull into the Hugging Face cache (loopback server)", () => {
  it("pulls config, weights and tokenizer files in the HF cache layout; loads them; second pull is a no-op", async () => {
    const cache = newCache();
    const r = await pullModel("org/tiny", online(cache));
    const repoDir = join(cache, "models--org--tiny");
    expect(r.commit).toBe(COMMIT);
    expect(r.dir).toBe(join(repoDir, "snapshots", COMMIT));
    expect(r.downloaded.sort()).toEqual(
      ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"].sort(),
    );
    expect(readFileSync(join(repoDir, "refs", "main"), "utf8")).toBe(COMMIT);
    const link = join(r.dir, "model.safetensors");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const sha = createHash("sha256").update(weights).digest("hex");
    expect(readlinkSync(link)).toBe(join("..", "..", "blobs", sha));
    expect(readFileSync(link).equals(Buffer.from(weights))).toBe(true);
    expect(() => lstatSync(join(r.dir, "README.md"))).toThrow(/ENOENT/);

    const before = hub.requests.length;
    const again = await pullModel("org/tiny", online(cache));
    expect(again.downloaded).toEqual([]);
    expect(hub.requests.slice(before).filter((q) => q.url.includes("/resolve/"))).toEqual([]);

    const w = await loadModel("org/tiny", online(cache));
    expect(w.source).toEqual({ dir: r.dir, repoId: "org/tiny", revision: COMMIT });
    for (const [name, t] of tensors) expect(refValues(w.tensors.get(name)!)).toEqual(t.values);
    expect(w.tensors.get("lm_head.bias")!.external!.path).toBe(join(repoDir, "blobs", sha)); // symlink resolved
    // The hash taken from the blob name equals the hash of the same files in a plain directory.
    const plain = tmpDir("entk-plain-");
    cpSync(r.dir, plain, { recursive: true, dereference: true });
    expect((await loadWeightsFromDir(plain)).hash).toBe(w.hash);
  });

  it("pulls vocab.json + merges.txt when the repo has no tokenizer.json, so its tokenizer loads", async () => {
    const r = await pullModel("org/slow-tokenizer", online(newCache()));
    expect(r.downloaded.sort()).toEqual(["config.json", "merges.txt", "model.safetensors", "vocab.json"]);
    const tok = await loadTokenizer(r.dir);
    expect(tok.encode("ab")).toEqual([6]);
  });

  it("offline: resolves from the cache without a request; clear errors for missing repos and files", async () => {
    const cache = newCache();
    await pullModel("org/tiny", online(cache));
    const before = hub.requests.length;
    const w = await loadModel("org/tiny", { cacheDir: cache, env: { HF_HUB_OFFLINE: "1", HF_ENDPOINT: hub.url } });
    expect(w.tensors.size).toBe(tensors.size);
    expect((await loadModel("org/tiny", { cacheDir: cache, offline: true, env: {} })).hash).toBe(w.hash);
    expect(hub.requests.length).toBe(before);
    await expect(loadModel("org/other", { cacheDir: cache, offline: true })).rejects.toThrow(
      /org\/other@main: not in the Hugging Face cache .* \(offline mode\); run "entk model pull org\/other"/,
    );
    await expect(loadModel("org/tiny", { cacheDir: cache, offline: true, revision: "v2" })).rejects.toThrow(
      /org\/tiny@v2: not in the Hugging Face cache/,
    );
    rmSync(join(cache, "models--org--tiny", "snapshots", COMMIT, "model.safetensors"));
    await expect(loadModel("org/tiny", { cacheDir: cache, offline: true })).rejects.toThrow(
      /org\/tiny@main: .*snapshots\/a{40} lacks model\.safetensors \(offline mode\)/,
    );
  });

  it("sends the HF_TOKEN as a bearer token; without it a private repo fails clearly", async () => {
    const cache = newCache();
    await expect(pullModel("org/private", online(cache))).rejects.toThrow(
      /org\/private@main: access denied .*HTTP 401.*set HF_TOKEN/,
    );
    const before = hub.requests.length;
    const r = await pullModel("org/private", online(cache, { HF_TOKEN: "hf_secret" }));
    expect(r.downloaded).toContain("model.safetensors");
    const sent = hub.requests.slice(before);
    expect(sent.length).toBeGreaterThan(5);
    for (const q of sent) expect(q.authorization).toBe("Bearer hf_secret");
  });

  it("pulls a sharded checkpoint (index first, then its shards)", async () => {
    const cache = newCache();
    const r = await pullModel("org/sharded", online(cache));
    expect(r.files).toEqual(expect.arrayContaining(["model.safetensors.index.json", ...shardNames]));
    const w = await loadModel("org/sharded", { cacheDir: cache, offline: true });
    expect(w.files).toEqual(shardNames);
    for (const [name, t] of tensors) expect(refValues(w.tensors.get(name)!)).toEqual(t.values);
  });

  it("explains how to convert a pytorch_model.bin-only repo; rejects bad repo ids and revisions", async () => {
    const cache = newCache();
    await expect(pullModel("org/torch", online(cache))).rejects.toThrow(/only PyTorch weights.*safe_serialization/s);
    await expect(pullModel("org/tiny", { ...online(cache), revision: "nope" })).rejects.toThrow(
      /org\/tiny@nope: repo or revision not found .*HTTP 404/,
    );
    await expect(loadModel("not a/valid--id", online(cache))).rejects.toThrow(/invalid Hub repo id/);
  });

  it("falls back to a complete cached snapshot, with a warning, when the Hub is unreachable", async () => {
    const cache = newCache();
    await pullModel("org/tiny", online(cache));
    const warnings: string[] = [];
    const opts = {
      cacheDir: cache,
      quiet: true,
      env: { HF_ENDPOINT: "http://127.0.0.1:1" },
      warn: (m: string) => warnings.push(m),
    };
    const w = await loadModel("org/tiny", opts);
    expect(w.source.revision).toBe(COMMIT);
    expect(warnings.join()).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1.*using the cached snapshot a{40}/);
    await expectOptionRejection(
      loadModel("org/sharded", opts),
      "offline",
      /cannot reach .*HF_HUB_OFFLINE=1 \/ offline/,
    );
  });
});
