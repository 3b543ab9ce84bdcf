/**
 * Task vectors: `entk task-vector` writes θ_ft − θ₀ and `apply` writes θ₀ + Σ αᵢτᵢ; both checked elementwise
 * against float64 arithmetic on the raw safetensors bytes of the models involved; vectors of another base are refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { initModel } from "../../src/model/init/init.ts";
import { readSafetensorsHeader, readTensorBytes } from "../../src/model/weights/safetensors.ts";

let root: string;
const dir = (n: string) => join(root, n);

/** Every tensor of a safetensors file as float64 values, read straight from its bytes. */
function raw(path: string): Map<string, Float64Array> {
  const h = readSafetensorsHeader(path);
  return new Map(
    h.entries.map((e) => {
      const b = readTensorBytes(e, path);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return [e.name, Float64Array.from({ length: b.byteLength / 4 }, (_, i) => dv.getFloat32(4 * i, true))];
    }),
  );
}

async function cli(...args: string[]): Promise<number> {
  return main(["node", "entk", ...args]);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "entk-tv-"));
  // Same architecture, different draws: stand-ins for a base and two fine-tuned checkpoints of it.
  for (const [name, seed] of [
    ["base", 0],
    ["ft1", 1],
    ["ft2", 2],
    ["other", 3],
  ] as const)
    await initModel({ arch: "roberta", preset: "tiny", seed, out: dir(name) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("task vectors", () => {
  it("τ = θ_ft − θ₀ elementwise, with the base hash in the metadata", async () => {
    expect(
      await cli("task-vector", "--base", dir("base"), "--finetuned", dir("ft1"), "--out", dir("tv1.safetensors")),
    ).toBe(0);
    const tv = raw(dir("tv1.safetensors"));
    const b = raw(dir("base/model.safetensors"));
    const f = raw(dir("ft1/model.safetensors"));
    expect([...tv.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, t] of tv) {
      const want = b.get(name)!.map((v, i) => Math.fround(f.get(name)![i] - v));
      expect(Array.from(t)).toEqual(Array.from(want));
    }
    const meta = readSafetensorsHeader(dir("tv1.safetensors")).metadata;
    expect(meta.format).toBe("entk-task-vector-v1");
    expect(meta.base_weights_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("apply writes θ₀ + α₁τ₁ + α₂τ₂ as a loadable model directory (negation included)", async () => {
    expect(
      await cli(
        "task-vector",
        "create",
        "--base",
        dir("base"),
        "--finetuned",
        dir("ft2"),
        "--out",
        dir("tv2.safetensors"),
      ),
    ).toBe(0);
    const code = await cli(
      "task-vector",
      "apply",
      "--base",
      dir("base"),
      "--vectors",
      `${dir("tv1.safetensors")},${dir("tv2.safetensors")}`,
      "--alpha",
      "0.7,-0.4",
      "--out",
      dir("edited"),
    );
    expect(code).toBe(0);
    const b = raw(dir("base/model.safetensors"));
    const f1 = raw(dir("ft1/model.safetensors"));
    const f2 = raw(dir("ft2/model.safetensors"));
    const e = raw(dir("edited/model.safetensors"));
    let worst = 0;
    for (const [name, v0] of b) {
      const got = e.get(name)!;
      for (let i = 0; i < v0.length; i++) {
        const want = v0[i] + 0.7 * (f1.get(name)![i] - v0[i]) - 0.4 * (f2.get(name)![i] - v0[i]);
        worst = Math.max(worst, Math.abs(got[i] - want) / Math.max(1, Math.abs(want)));
      }
    }
    expect(worst).toBeLessThan(1e-6); // float32 rounding of each term
    expect(await cli("model", "info", dir("edited"))).toBe(0);
  });

  it("refuses a vector taken against another base, and mismatched --alpha", async () => {
    const err: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => err.push(String(s)) > 0) as typeof process.stderr.write;
    try {
      const other = await cli(
        "task-vector",
        "apply",
        "--base",
        dir("other"),
        "--vectors",
        dir("tv1.safetensors"),
        "--alpha",
        "1",
        "--out",
        dir("x"),
      );
      expect(other).toBe(2);
      const count = await cli(
        "task-vector",
        "apply",
        "--base",
        dir("base"),
        "--vectors",
        dir("tv1.safetensors"),
        "--alpha",
        "1,2",
        "--out",
        dir("y"),
      );
      expect(count).toBe(2);
    } finally {
      process.stderr.write = orig;
    }
    expect(err.join("")).toMatch(/only applies to its own base model/);
    expect(err.join("")).toMatch(/--vectors has 1 files but --alpha 2 values/);
  });
});
