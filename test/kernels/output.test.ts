import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeKernels } from "../../src/kernels/compute.ts";
import { readKernel, readKernelMeta, writeKernelOutputs } from "../../src/kernels/output.ts";
import { syntheticExample } from "./synthetic.ts";

describe("kernel output directory", () => {
  it("writes the documented layout; numpy reads every file with the right dtype and shape", async () => {
    const dir = mkdtempSync(join(tmpdir(), "entk-kout-"));
    try {
      const tr = [3, 4, 2].map((T, i) => syntheticExample(i, T, 2));
      const dev = [5, 2].map((T, i) => syntheticExample(10 + i, T, 2));
      const res = await computeKernels(
        tr,
        { dev },
        { formulas: ["sgd", "asymmetric_signgd"], memoryBytes: 2 ** 30, quiet: true },
      );
      const rec = (n: number) => ({
        inputs: Array.from({ length: n }, (_, i) => ({ input_ids: [0, 5 + i, 50264, 2], mask_pos: 2, label: i % 2 })),
        logits: Float32Array.from({ length: n * 2 }, (_, k) => k / 4),
      });
      const meta = await writeKernelOutputs(
        dir,
        res,
        { train: rec(3), dev: rec(2) },
        {
          task: "SST-2",
          template: "*cls**sent_0*_It_was*mask*.*sep+*",
          label_word_ids: [3, 7],
          binary: false,
          metric: "acc",
          model: { id: "tiny", weights_hash: "abc" },
          flags: { exclude_head: false },
        },
        ["sgd", "asymmetric_signgd"],
      );
      expect(meta.kernels.sort()).toEqual(["asymmetric_signgd", "asymmetric_signgd_flipped", "sgd"]);
      expect(readdirSync(dir).sort()).toEqual(
        [
          "inputs.dev.jsonl",
          "inputs.train.jsonl",
          "kernel.asymmetric_signgd.dev.npy",
          "kernel.asymmetric_signgd.train.npy",
          "kernel.asymmetric_signgd_flipped.dev.npy",
          "kernel.asymmetric_signgd_flipped.train.npy",
          "kernel.sgd.dev.npy",
          "kernel.sgd.train.npy",
          "labels.dev.npy",
          "labels.train.npy",
          "logits.dev.npy",
          "logits.train.npy",
          "meta.json",
        ].sort(),
      );
      const m = readKernelMeta(dir);
      for (const k of [
        "label_word_ids",
        "binary",
        "formulas",
        "task",
        "template",
        "model",
        "flags",
        "entk_version",
        "timings",
        "grad_dim",
        "metric",
        "plan",
      ])
        expect(m).toHaveProperty(k);
      expect(
        readFileSync(join(dir, "inputs.dev.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))[1],
      ).toEqual({
        input_ids: [0, 6, 50264, 2],
        mask_pos: 2,
        label: 1,
      });
      const k = readKernel(dir, "sgd", "dev");
      expect(k.shape).toEqual([3, 2, 2, 2]);
      expect(Array.from(k.data)).toEqual(Array.from(res.kernels.dev.sgd!));
      const py = `
import numpy as np, sys, json
d = sys.argv[1]
out = {}
for f in ["kernel.sgd.dev.npy", "kernel.asymmetric_signgd_flipped.train.npy", "logits.dev.npy", "labels.train.npy"]:
    a = np.load(d + "/" + f)
    out[f] = [str(a.dtype), list(a.shape), float(a.sum())]
print(json.dumps(out))`;
      const got = JSON.parse(execFileSync("python3", ["-c", py, dir], { encoding: "utf8" }));
      const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
      expect(got["kernel.sgd.dev.npy"].slice(0, 2)).toEqual(["float64", [3, 2, 2, 2]]);
      expect(got["kernel.sgd.dev.npy"][2]).toBeCloseTo(sum(res.kernels.dev.sgd!), 6);
      expect(got["kernel.asymmetric_signgd_flipped.train.npy"].slice(0, 2)).toEqual(["float64", [3, 2, 3, 2]]);
      expect(got["logits.dev.npy"]).toEqual(["float32", [2, 2], 1.5]);
      expect(got["labels.train.npy"]).toEqual(["int32", [3], 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses records that do not match the kernel sizes, naming the split", async () => {
    const tr = [syntheticExample(1, 2, 2)];
    const res = await computeKernels(tr, {}, { formulas: ["sgd"], memoryBytes: 2 ** 30, quiet: true });
    await expect(
      writeKernelOutputs(
        "/nonexistent-entk",
        res,
        { train: { inputs: [], logits: new Float32Array() } },
        {
          task: "t",
          template: "",
          label_word_ids: [],
          binary: false,
          metric: "acc",
          model: { id: "", weights_hash: "" },
          flags: {},
        },
        ["sgd"],
      ),
    ).rejects.toThrow(/split "train" has 1 kernel columns but 0 inputs/);
    expect(() => readKernelMeta("/nonexistent-entk")).toThrow(/meta\.json: cannot read kernel metadata/);
  });
});
