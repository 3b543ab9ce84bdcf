import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Graph } from "../../../src/model/graph/graph.ts";
import { add } from "../../../src/model/graph/ops.ts";
import { createPromptModel } from "../../../src/model/prompt-model.ts";
import { probeProvider } from "../../../src/model/runtime/providers.ts";
import { getSession, ort, releaseSessions } from "../../../src/model/runtime/session.ts";
import type { LoadedWeights, TensorRef } from "../../../src/model/weights/types.ts";
import { tinyConfig, tinyWeights } from "../tiny.ts";

const dirs: string[] = [];
afterAll(async () => {
  await releaseSessions();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tiny(): () => { build: (l: (p: string) => string) => Uint8Array; externalFiles: string[] } {
  const g = new Graph();
  const x = g.input("x", "float32", [2]);
  const y = add(x, 1);
  return () => ({ build: (l) => g.toModel([y], l), externalFiles: [] });
}

describe("runtime", () => {
  it("caches one session per graph signature, device, thread count and spinning", async () => {
    const a = await getSession("sig-a", tiny(), { threads: 1 });
    const b = await getSession("sig-a", tiny(), { threads: 1 });
    const c = await getSession("sig-a", tiny(), { threads: 2 });
    const d = await getSession("sig-a", tiny(), { threads: 1, spinning: true });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    const rd = await d.run({ x: new ort.Tensor("float32", new Float32Array([5, 6]), [2]) });
    expect(Array.from(rd[d.outputNames[0]].data as Float32Array)).toEqual([6, 7]);
    const r = await a.run({ x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]) });
    expect(Array.from(r[a.outputNames[0]].data as Float32Array)).toEqual([2, 3]);
  });

  it("rejects bad thread counts and unknown devices clearly", async () => {
    await expect(getSession("sig-b", tiny(), { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(getSession("sig-b", tiny(), { device: "tpu" as never })).rejects.toThrow(/unknown device 'tpu'/);
  });

  for (const device of ["cuda", "webgpu"] as const) {
    it(`${device}: runs where available, else says why and how to get it`, async () => {
      const status = await probeProvider(device);
      const p = getSession(`sig-${device}`, tiny(), { device, threads: 1 });
      if (status.usable) await expect(p).resolves.toBeDefined();
      else {
        await expect(p).rejects.toThrow(new RegExp(`device '${device}' is not available`));
        if (device === "cuda") await expect(p).rejects.toThrow(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
      }
    });
  }
});

describe("weights referenced in place (ONNX external data)", () => {
  it("logits from tensors inside a file (via a symlink, as in the HF cache) equal the in-memory ones", async () => {
    const cfg = tinyConfig("roberta");
    const w = tinyWeights(cfg, 4);
    const dir = mkdtempSync(join(tmpdir(), "entk-ext-"));
    dirs.push(dir);
    // A safetensors-like blob: an 8-byte junk header, then the tensors back to back.
    const parts: Buffer[] = [Buffer.from("HEADER!!")];
    let offset = 8;
    const tensors = new Map<string, TensorRef>();
    for (const [name, t] of w.tensors) {
      const bytes = Buffer.from(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength);
      parts.push(bytes);
      tensors.set(name, {
        name,
        shape: t.shape,
        external: { path: join(dir, "snapshot", "model.bin"), offset, length: bytes.length },
      });
      offset += bytes.length;
    }
    const blobs = join(dir, "blobs");
    const snap = join(dir, "snapshot");
    mkdirSync(blobs);
    mkdirSync(snap);
    writeFileSync(join(blobs, "abc123"), Buffer.concat(parts));
    symlinkSync(join(blobs, "abc123"), join(snap, "model.bin"));
    const ext: LoadedWeights = { ...w, tensors, hash: "external-test" };
    const inputs = [
      { inputIds: [3, 9, 12, 4], maskPos: 2 },
      { inputIds: [5, 6], maskPos: 1 },
    ];
    const a = await createPromptModel(w, [5, 8], { threads: 1 }).logits(inputs);
    const b = await createPromptModel(ext, [5, 8], { threads: 1 }).logits(inputs);
    expect(Array.from(b)).toEqual(Array.from(a));
    // The temporary model file next to the blob is gone.
    expect(readdirSync(blobs)).toEqual(["abc123"]);
  });

  it("without a writable weights directory the bytes are copied into the model (locate → null)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-inline-"));
    dirs.push(dir);
    const path = join(dir, "w.bin");
    writeFileSync(path, Buffer.concat([Buffer.from("JUNK"), Buffer.from(new Float32Array([10, 20]).buffer)]));
    const g = new Graph();
    const x = g.input("x", "float32", [2]);
    const y = add(x, g.initializer("w", "float32", [2], { external: { path, offset: 4, length: 8 } }));
    const s = await ort.InferenceSession.create(g.toModel([y], () => null));
    const r = await s.run({ x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]) });
    expect(Array.from(r[s.outputNames[0]].data as Float32Array)).toEqual([11, 22]);
  });
});
