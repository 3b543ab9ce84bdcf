import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { f16ToF32, f32ToF16 } from "../../../src/model/weights/convert.ts";
import { readSafetensorsHeader, writeSafetensors } from "../../../src/model/weights/safetensors.ts";

/** Values covering normals, subnormals, ties, overflow, signed zero and NaN. */
const VALUES = Float32Array.from([
  0,
  -0,
  1,
  -1,
  0.1,
  1 / 3,
  65504,
  65519,
  65520,
  1e6,
  -1e6,
  6.1e-5,
  5.96e-8,
  2.98e-8,
  2.99e-8,
  1e-9,
  3e-6,
  -3e-6,
  1.00048828125,
  1.000244140625,
  1.000732421875,
  2049,
  2051,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  0.02,
  -0.0173,
]);

describe("float32 → float16", () => {
  it("rounds like NumPy's astype(float16) (nearest, ties to even; subnormals, overflow, NaN)", () => {
    const ours = Array.from(f32ToF16(VALUES));
    // The float32 bit patterns go to NumPy as integers (JSON has no −0, NaN or ∞).
    const py = [
      "import numpy as np, json, sys",
      "v = np.array(json.loads(sys.stdin.read()), dtype=np.uint32).view(np.float32)",
      "print(json.dumps(v.astype(np.float16).view(np.uint16).tolist()))",
    ].join("\n");
    const input = JSON.stringify(Array.from(new Uint32Array(VALUES.buffer)));
    const numpy = JSON.parse(execFileSync("python3", ["-c", py], { input, encoding: "utf8" })) as number[];
    expect(ours).toEqual(numpy);
    // Round trip of representable halves is exact.
    const back = f16ToF32(new Uint8Array(f32ToF16(Float32Array.from([1, 0.5, -2.75, 65504])).buffer));
    expect(Array.from(back)).toEqual([1, 0.5, -2.75, 65504]);
  });

  it("writeSafetensors stores F16 tensors with their dtype and 2-byte offsets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-f16-"));
    try {
      const p = join(dir, "m.safetensors");
      await writeSafetensors(p, [
        { name: "a", shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]), dtype: "F16" },
        { name: "b", shape: [3], data: Float32Array.from([0.5, 0.25, 8]) },
      ]);
      const h = readSafetensorsHeader(p);
      const a = h.entries.find((e) => e.name === "a")!;
      expect(a.dtype).toBe("F16");
      expect(readFileSync(p).byteLength).toBe(h.dataStart + 4 * 2 + 3 * 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
