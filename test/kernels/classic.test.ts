/** Classic kernels on features against NumPy's direct float64 formulas (python3 at test time). */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLASSIC_FORMULAS, classicParams, expandOutputs, scalarKernel } from "../../src/kernels/classic.ts";

function feats(n: number, H: number, seed: number) {
  let s = seed;
  const data = Float64Array.from({ length: n * H }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 3;
  });
  return { n, H, data };
}

describe("classic kernels", () => {
  const a = feats(7, 5, 1);
  const b = feats(4, 5, 2);

  it("linear, polynomial and Gaussian equal NumPy's formulas; σ defaults to the median distance", () => {
    const p = classicParams(a, { degree: 2, coef0: 0.5 });
    const py = `
import json, sys, numpy as np
d = json.load(sys.stdin); A = np.array(d["a"]).reshape(7, 5); B = np.array(d["b"]).reshape(4, 5)
i, j = np.triu_indices(7, 1); dist = np.sort(np.linalg.norm(A[i] - A[j], axis=1)); sigma = dist[(len(dist) - 1) // 2]
D2 = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
print(json.dumps({"sigma": float(sigma), "linear": (A @ B.T).ravel().tolist(),
  "poly": (((A @ B.T) / 5 + 0.5) ** 2).ravel().tolist(),
  "rbf": np.exp(-D2 / (2 * sigma ** 2)).ravel().tolist()}))`;
    const ref = JSON.parse(
      execFileSync("python3", ["-c", py], {
        input: JSON.stringify({ a: Array.from(a.data), b: Array.from(b.data) }),
      }).toString(),
    );
    expect(p.sigma).toBeCloseTo(ref.sigma, 12);
    expect(p.gamma).toBe(1 / 5);
    for (const f of CLASSIC_FORMULAS) {
      const k = scalarKernel(f, a, b, p);
      (ref[f] as number[]).forEach((v, i) => {
        expect(k[i]).toBeCloseTo(v, 10);
      });
    }
  });

  it("k ⊗ I_C: outputs are independent", () => {
    const k = scalarKernel("linear", a, b, classicParams(a));
    const K = expandOutputs(k, 7, 4, 3);
    for (let i = 0; i < 7; i++)
      for (let c = 0; c < 3; c++)
        for (let j = 0; j < 4; j++)
          for (let c2 = 0; c2 < 3; c2++) expect(K[((i * 3 + c) * 4 + j) * 3 + c2]).toBe(c === c2 ? k[i * 4 + j] : 0);
  });

  it("refuses a non-integer degree and σ ≤ 0", () => {
    expect(() => classicParams(a, { degree: 1.5 })).toThrow(/degree must be an integer/);
    expect(() => classicParams(a, { sigma: 0 })).toThrow(/σ must be > 0/);
  });
});
