import { execFileSync } from "node:child_process";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32 } from "../../../src/model/weights/convert.ts";
import { readSafetensorsHeader, writeSafetensors } from "../../../src/model/weights/safetensors.ts";
import { f32Bytes, handSafetensors, removeTmpDirs, tmpDir } from "./helpers.ts";

const tmp = () => tmpDir("entk-st-");
afterAll(removeTmpDirs);

describe("safetensors header", () => {
  it("reads a hand-made file: dtypes, shapes, absolute offsets, metadata", () => {
    const path = join(tmp(), "a.safetensors");
    const a = f32Bytes([1, 2, 3, 4, 5, 6]);
    const b = new Uint8Array([1, 2, 3, 4]);
    const bytes = handSafetensors(
      [
        { name: "a", dtype: "F32", shape: [2, 3], bytes: a },
        { name: "b", dtype: "F16", shape: [2], bytes: b },
      ],
      { metadata: { format: "pt" }, pad: 3 },
    );
    writeFileSync(path, bytes);
    const h = readSafetensorsHeader(path);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(h.dataStart).toBe(8 + headerLen);
    expect(h.metadata).toEqual({ format: "pt" });
    expect(h.entries).toEqual([
      { name: "a", dtype: "F32", shape: [2, 3], offset: 8 + headerLen, length: 24 },
      { name: "b", dtype: "F16", shape: [2], offset: 8 + headerLen + 24, length: 4 },
    ]);
    const file = readFileSync(path);
    expect([
      ...new Float32Array(file.buffer.slice(file.byteOffset + 8 + headerLen, file.byteOffset + 32 + headerLen)),
    ]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  const good = () => [{ name: "w", dtype: "F32", shape: [2, 2], bytes: f32Bytes([1, 2, 3, 4]) }];
  const cases: [string, (p: string) => void, RegExp][] = [
    [
      "truncated data",
      (p) => writeFileSync(p, handSafetensors(good()).subarray(0, -3)),
      /truncated: tensor data needs 16 bytes/,
    ],
    ["shorter than 8 bytes", (p) => writeFileSync(p, new Uint8Array(5)), /shorter than the 8-byte header length/],
    [
      "header length past the end",
      (p) => {
        const b = handSafetensors(good());
        new DataView(b.buffer).setBigUint64(0, 5000n, true);
        writeFileSync(p, b);
      },
      /truncated: header length says 5000 bytes/,
    ],
    [
      "absurd header length",
      (p) => {
        const b = handSafetensors(good());
        new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
        writeFileSync(p, b);
      },
      /exceeds 100000000 bytes/,
    ],
    [
      "header not JSON",
      (p) => {
        const b = handSafetensors(good());
        b[9] = 0x7b; // '{{' …
        writeFileSync(p, b);
      },
      /header is not valid JSON/,
    ],
    [
      "unknown dtype",
      (p) => writeFileSync(p, handSafetensors([{ ...good()[0], dtype: "F128" }])),
      /tensor "w": unknown dtype "F128"/,
    ],
    [
      "shape disagrees with offsets",
      (p) => writeFileSync(p, handSafetensors([{ ...good()[0], shape: [3, 2] }])),
      /tensor "w": F32 \[3,2\] needs 24 bytes but data_offsets \[0, 16\] span 16/,
    ],
    [
      "overlapping tensors",
      (p) =>
        writeFileSync(
          p,
          handSafetensors(good(), { header: { v: { dtype: "F32", shape: [2], data_offsets: [8, 16] } } }),
        ),
      /tensors "w" and "v" overlap/,
    ],
    [
      "negative shape",
      (p) => writeFileSync(p, handSafetensors([{ ...good()[0], shape: [-1, 4] }])),
      /tensor "w": shape must be an array of non-negative integers/,
    ],
  ];
  it.each(cases)("rejects %s with the file name", (_, make, msg) => {
    const path = join(tmp(), "bad.safetensors");
    make(path);
    expect(() => readSafetensorsHeader(path)).toThrow(msg);
    expect(() => readSafetensorsHeader(path)).toThrow(path);
  });

  it("a file cut short after writing is caught", async () => {
    const path = join(tmp(), "cut.safetensors");
    await writeSafetensors(path, [{ name: "x", shape: [100], data: new Float32Array(100) }]);
    truncateSync(path, readFileSync(path).length - 1);
    expect(() => readSafetensorsHeader(path)).toThrow(/truncated/);
  });
});

describe("writeSafetensors", () => {
  it("writes a file numpy reads back exactly (chunked producers included), header 8-byte aligned", async () => {
    const dir = tmp();
    const path = join(dir, "w.safetensors");
    const a = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
    await writeSafetensors(
      path,
      [
        { name: "a", shape: [2, 3], data: a },
        { name: "big", shape: [5, 2], data: () => [Float32Array.of(0, 1, 2), Float32Array.of(3, 4, 5, 6, 7, 8, 9)] },
      ],
      { format: "pt" },
    );
    const py = `
import json, struct, sys, numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
out = {"aligned": (8 + n) % 8 == 0, "meta": h.pop("__metadata__")}
for k, v in h.items():
    s, e = v["data_offsets"]
    out[k] = {"dtype": v["dtype"], "shape": v["shape"], "values": np.frombuffer(b[8 + n + s:8 + n + e], "<f4").tolist()}
print(json.dumps(out))`;
    const r = JSON.parse(execFileSync("python3", ["-c", py, path], { encoding: "utf8" }));
    expect(r.aligned).toBe(true);
    expect(r.meta).toEqual({ format: "pt" });
    expect(r.a).toEqual({ dtype: "F32", shape: [2, 3], values: [...a] });
    expect(r.big).toEqual({ dtype: "F32", shape: [5, 2], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  });

  it("rejects wrong element counts and duplicate names, leaving no file behind", async () => {
    const dir = tmp();
    const path = join(dir, "x.safetensors");
    await expect(writeSafetensors(path, [{ name: "a", shape: [3], data: new Float32Array(2) }])).rejects.toThrow(
      /"a" has shape \[3\] \(3 elements\) but 2 values/,
    );
    await expect(
      writeSafetensors(path, [{ name: "a", shape: [3], data: () => [new Float32Array(2)] }]),
    ).rejects.toThrow(/got 2 of 3 values/);
    await expect(
      writeSafetensors(path, [
        { name: "a", shape: [1], data: new Float32Array(1) },
        { name: "a", shape: [1], data: new Float32Array(1) },
      ]),
    ).rejects.toThrow(/duplicate tensor name "a"/);
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });
});

describe("half-precision conversion", () => {
  it("F16 and BF16 → float32 match numpy", () => {
    const vals = [0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 3.3, -1e-3, Number.POSITIVE_INFINITY];
    const py = `
import json, sys, numpy as np
v = np.array(json.loads(sys.argv[1].replace("Infinity", "1e999")), dtype=np.float32)
h = v.astype(np.float16)
bf = (v.view(np.uint32) >> 16).astype(np.uint16)
print(json.dumps({"f16": list(h.tobytes()), "f16v": h.astype(np.float32).tolist(),
                  "bf16": list(bf.tobytes()), "bf16v": (bf.astype(np.uint32) << 16).view(np.float32).tolist()}))`;

    const r = JSON.parse(
      execFileSync("python3", ["-c", py, JSON.stringify(vals).replace("null", "Infinity")], {
        encoding: "utf8",
      }).replaceAll("Infinity", "1e999"),
    );
    expect([...f16ToF32(Uint8Array.from(r.f16))]).toEqual(r.f16v);
    expect([...bf16ToF32(Uint8Array.from(r.bf16))]).toEqual(r.bf16v);
  });

  it("F16 → float32 matches numpy on all 65,536 bit patterns (NaN patterns give NaN)", () => {
    // numpy's float32 bits of every float16 pattern 0..65535, as hex.
    const py =
      "import numpy as np, sys; sys.stdout.write(np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).tobytes().hex())";
    const hex = Buffer.from(execFileSync("python3", ["-c", py], { encoding: "utf8" }), "hex");
    const want = new Float32Array(hex.buffer, hex.byteOffset, hex.length / 4);
    const bytes = new Uint8Array(new Uint16Array(Array.from({ length: 65536 }, (_, i) => i)).buffer);
    const got = f16ToF32(bytes);
    let bad = 0;
    for (let i = 0; i < 65536; i++)
      if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) bad++;
    expect(bad).toBe(0);
    expect(Object.is(got[0x8000], -0)).toBe(true);
  });
});
