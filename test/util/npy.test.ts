import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeNpy, encodeNpy, readNpy, writeNpy } from "../../src/util/npy.ts";

describe("npy", () => {
  it("round-trips every dtype and keeps the 64-byte data alignment", () => {
    const cases = [
      new Float32Array([1.5, -2, 3]),
      new Float64Array([Math.PI, 1e-300, -0]),
      new Int32Array([-7, 0, 2 ** 31 - 1]),
      new BigInt64Array([-1n, 2n ** 40n, 0n]),
      new Uint8Array([0, 255, 7]),
    ];
    for (const data of cases) {
      const buf = encodeNpy(data, [3, 1]);
      const headerLen = new DataView(buf.buffer).getUint16(8, true);
      expect((10 + headerLen) % 64).toBe(0);
      const back = decodeNpy(buf);
      expect(back.shape).toEqual([3, 1]);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
    }
  });

  it("rejects bad magic, truncation and a shape/data mismatch with the file named", () => {
    expect(() => decodeNpy(new Uint8Array(20), "k.npy")).toThrow(/k\.npy: not a \.npy file/);
    const buf = encodeNpy(new Float64Array(4), [4]);
    expect(() => decodeNpy(buf.subarray(0, buf.length - 8), "k.npy")).toThrow(/k\.npy: truncated/);
    expect(() => encodeNpy(new Float64Array(4), [5])).toThrow(/shape \[5\] has 5 elements/);
  });

  it("is read and written by numpy itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-npy-"));
    await writeNpy(join(dir, "a.npy"), new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const out = execFileSync("python3", [
      "-c",
      `import numpy as np; a=np.load('${dir}/a.npy'); print(a.dtype, a.shape, a.sum()); np.save('${dir}/b.npy', np.arange(6, dtype=np.int32).reshape(3,2))`,
    ]).toString();
    expect(out.trim()).toBe("float64 (2, 3) 21.0");
    const b = readNpy(join(dir, "b.npy"));
    expect(b.dtype).toBe("int32");
    expect(b.shape).toEqual([3, 2]);
    expect(Array.from(b.data as Int32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    writeFileSync(join(dir, "c.npy"), readFileSync(join(dir, "b.npy")).subarray(0, 100));
    expect(() => readNpy(join(dir, "c.npy"))).toThrow(/c\.npy: truncated/);
  });
});
