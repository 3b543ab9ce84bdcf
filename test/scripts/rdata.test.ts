import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { rdbStringVectors, unserializeStrings } from "../../scripts/lib/rdata.ts";

// Serializations written here by hand from R's XDR format (big-endian int32 words), independently of the reader.
const int = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const header = (version: 2 | 3) =>
  Buffer.concat([
    Buffer.from("X\n", "latin1"),
    int(version),
    int(0x040201), // written by R 4.2.1
    int(0x030500), // readable from R 3.5.0
    ...(version === 3 ? [int(5), Buffer.from("UTF-8")] : []),
  ]);
const charsxp = (s: string | null) => {
  if (s === null) return Buffer.concat([int(9), int(-1)]);
  const bytes = Buffer.from(s, "utf8");
  return Buffer.concat([int(0x00040009), int(bytes.length), bytes]); // gp bit: UTF-8
};
const strsxp = (version: 2 | 3, xs: (string | null)[]) =>
  Buffer.concat([header(version), int(16), int(xs.length), ...xs.map(charsxp)]);
const blob = (payload: Buffer) => Buffer.concat([int(payload.length), deflateSync(payload)]);

describe("R lazy-load character vectors", () => {
  it("reads the strings of version-2 and version-3 serializations, NA included", () => {
    expect(unserializeStrings(strsxp(3, ["It was a truth", "", "café —", null]))).toEqual([
      "It was a truth",
      "",
      "café —",
      null,
    ]);
    expect(unserializeStrings(strsxp(2, ["a", "bc"]))).toEqual(["a", "bc"]);
  });

  it("walks a database of blobs and skips objects that are not character vectors", () => {
    const integers = Buffer.concat([header(3), int(13), int(2), int(7), int(8)]);
    const rdb = Buffer.concat([blob(strsxp(3, ["one", "two"])), blob(integers), blob(strsxp(3, ["three"]))]);
    expect(rdbStringVectors(rdb)).toEqual([["one", "two"], ["three"]]);
  });

  it("rejects what it cannot read", () => {
    expect(() => unserializeStrings(Buffer.from("RDX2\n"))).toThrow(/XDR/);
    const v4 = Buffer.concat([Buffer.from("X\n", "latin1"), int(4), int(0), int(0)]);
    expect(() => unserializeStrings(v4)).toThrow(/version 4/);
    const bad = blob(strsxp(3, ["x"]));
    bad.writeUInt32BE(99, 0);
    expect(() => rdbStringVectors(bad)).toThrow(/header says 99/);
  });
});
