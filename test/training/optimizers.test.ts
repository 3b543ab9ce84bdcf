import { describe, expect, it } from "vitest";
import { clipCoefficient, globalGradNorm } from "../../src/training/clip.ts";
import { createOptimizer, usesWeightDecay } from "../../src/training/optimizers.ts";

const names = [
  "enc.layer.0.dense.weight",
  "enc.layer.0.dense.bias",
  "enc.LayerNorm.weight",
  "bert.x.layer_norm.weight",
];
const P0 = [
  [0.5, -1.25, 2, 0],
  [0.1, -0.2],
  [1, 1.5],
  [0.75, -0.5],
];
const G = [
  [0.3, 0, -2, 1e-3],
  [-0.4, 0.25],
  [0.5, -0.125],
  [2, 0],
];
/** Expected values start from the float32 parameters and gradients the optimizer actually sees. */
const f32 = (xs: number[]) => Float32Array.from(xs);
const mkParams = () => new Map(names.map((n, i) => [n, f32(P0[i])]));
const mkGrads = () => new Map(names.map((n, i) => [n, f32(G[i])]));
const decays = [true, false, false, false];

describe("weight-decay mask", () => {
  it("exempts biases and LayerNorm weights only", () => {
    expect(names.map(usesWeightDecay)).toEqual(decays);
    expect(usesWeightDecay("roberta.embeddings.word_embeddings.weight")).toBe(true);
    expect(usesWeightDecay("lm_head.layer_norm.bias")).toBe(false);
    expect(usesWeightDecay("roberta.encoder.layer.3.attention.output.LayerNorm.bias")).toBe(false);
  });
});

describe("SGD", () => {
  it("one step equals θ − lr·(g + λθ), decay only where the mask allows", () => {
    const params = mkParams();
    const opt = createOptimizer("sgd", params, { weightDecay: 0.1 });
    const lr = 0.05;
    opt.step(params, mkGrads(), lr);
    names.forEach((n, k) => {
      const want = P0[k]
        .map(Math.fround)
        .map((p, i) => Math.fround(p - lr * (Math.fround(G[k][i]) + (decays[k] ? 0.1 * p : 0))));
      expect(Array.from(params.get(n)!)).toEqual(want);
    });
  });

  it("skips parameters without a gradient (torch: grad is None), including their weight decay", () => {
    const params = mkParams();
    const grads = mkGrads();
    grads.delete(names[0]);
    createOptimizer("sgd", params, { weightDecay: 0.5 }).step(params, grads, 0.1);
    expect(Array.from(params.get(names[0])!)).toEqual(P0[0]);
    expect(Array.from(params.get(names[1])!)).not.toEqual(P0[1]);
  });

  it("rejects gradients of unknown parameters or the wrong size", () => {
    const params = mkParams();
    const opt = createOptimizer("sgd", params);
    expect(() => opt.step(params, new Map([["nope", f32([1])]]), 0.1)).toThrow(/unknown parameter 'nope'/);
    expect(() => opt.step(params, new Map([[names[1], f32([1])]]), 0.1)).toThrow(/has 1 elements, parameter has 2/);
  });
});

describe("SignGD", () => {
  it("uses sign(g) with sign(0) = 0, plus L2 decay", () => {
    const params = mkParams();
    createOptimizer("signgd", params, { weightDecay: 0.2 }).step(params, mkGrads(), 0.01);
    names.forEach((n, k) => {
      const want = P0[k]
        .map(Math.fround)
        .map((p, i) => Math.fround(p - 0.01 * (Math.sign(G[k][i]) + (decays[k] ? 0.2 * p : 0))));
      expect(Array.from(params.get(n)!)).toEqual(want);
    });
    // the zero gradient entry of the decayed tensor only decays; of the bias it stays put
    expect(params.get(names[0])![1]).toBe(Math.fround(-1.25 - 0.01 * 0.2 * -1.25));
    expect(params.get(names[3])![1]).toBe(-0.5);
  });
});

describe("AdamW (transformers 4.4.2, bias-corrected, decoupled decay)", () => {
  const b2 = 0.999;
  const eps = 1e-8;

  it("with a constant gradient matches the closed form Σ_t lr_t·g·√(1−β₂ᵗ)/(√(1−β₂ᵗ)|g| + ε)", () => {
    // With g constant, m_t = (1−β₁ᵗ)g and v_t = (1−β₂ᵗ)g², so the bias corrections cancel except against ε.
    const params = mkParams();
    const opt = createOptimizer("adam", params);
    const lrs = [1e-3, 5e-4, 2e-3, 1e-4, 3e-3];
    for (const lr of lrs) opt.step(params, mkGrads(), lr);
    names.forEach((n, k) => {
      const want = P0[k].map((p, i) => {
        const g = G[k][i];
        let x = p;
        lrs.forEach((lr, t) => {
          const s = Math.sqrt(1 - b2 ** (t + 1));
          x -= (lr * g * s) / (s * Math.abs(g) + eps);
        });
        return x;
      });
      const got = Array.from(params.get(n)!);
      got.forEach((v, i) => {
        expect(v).toBeCloseTo(want[i], 6);
      });
    });
  });

  it("one step with weight decay: θ₁ = (θ₀ − lr·g√(1−β₂)/(√(1−β₂)|g| + ε))·(1 − lr·λ) where decayed", () => {
    const params = mkParams();
    const opt = createOptimizer("adam", params, { weightDecay: 0.3 });
    const lr = 0.01;
    opt.step(params, mkGrads(), lr);
    const s = Math.sqrt(1 - b2);
    names.forEach((n, k) => {
      const got = params.get(n)!;
      P0[k].forEach((p, i) => {
        const g = G[k][i];
        const upd = p - (lr * g * s) / (s * Math.abs(g) + eps);
        expect(got[i]).toBeCloseTo(decays[k] ? upd * (1 - lr * 0.3) : upd, 6);
      });
    });
    expect(opt.stateMeta().t).toBe(1);
  });

  it("with varying gradients follows the recurrence computed in float64", () => {
    const params = new Map([["w", f32([0.2, -0.7, 1.1])]]);
    const opt = createOptimizer("adam", params, { betas: [0.8, 0.99], eps: 1e-6 });
    const gs = [
      [0.5, -1, 0.01],
      [-0.3, 2, 0.02],
      [0.1, 0, -0.5],
    ];
    const x = [0.2, -0.7, 1.1].map(Math.fround);
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    gs.forEach((g, t) => {
      opt.step(params, new Map([["w", f32(g)]]), 0.1);
      for (let i = 0; i < 3; i++) {
        m[i] = 0.8 * m[i] + 0.2 * g[i];
        v[i] = 0.99 * v[i] + 0.01 * g[i] ** 2;
        const mh = m[i] / (1 - 0.8 ** (t + 1));
        const vh = v[i] / (1 - 0.99 ** (t + 1));
        // HF form: ε is added to √v (not √v̂): step = lr·m̂ / (√v̂ + ε/√(1−β₂ᵗ))
        x[i] -= (0.1 * mh) / (Math.sqrt(vh) + 1e-6 / Math.sqrt(1 - 0.99 ** (t + 1)));
      }
    });
    Array.from(params.get("w")!).forEach((got, i) => {
      expect(got).toBeCloseTo(x[i], 6);
    });
    expect(opt.stateTensors().size).toBe(2);
  });
});

describe("AdamW with gradient clipping, bit for bit in torch's float32 order", () => {
  it("three clipped steps equal scalar float32 arithmetic: clip_grad_norm_ (mul_), then exp_avg, exp_avg_sq, addcdiv_, decay", () => {
    const f = Math.fround;
    const [b1, b2, eps, wd, maxNorm] = [0.9, 0.999, 1e-8, 0.01, 1.0];
    const params = mkParams();
    const opt = createOptimizer("adam", params, { weightDecay: wd });
    // Reference state: parameters, exp_avg and exp_avg_sq per tensor, as float32 scalars.
    const p = P0.map((row) => row.map(f));
    const m = P0.map((row) => row.map(() => 0));
    const v = P0.map((row) => row.map(() => 0));
    const lrs = [1e-3, 2e-3, 5e-4];
    lrs.forEach((lr, t) => {
      const grads = new Map(names.map((n, k) => [n, f32(G[k].map((x, i) => x * (t + 2) + 0.1 * i - 0.05 * t))]));
      const gs = names.map((n) => [...grads.get(n)!]);
      const norm = Math.sqrt(gs.flat().reduce((s, x) => s + x * x, 0));
      expect(norm).toBeGreaterThan(maxNorm); // clipping is active
      // torch: total_norm (float32) → clip_coef = max_norm / (total_norm + 1e-6) = reciprocal(total_norm + 1e-6)·max_norm
      const coef = f(f(1 / f(f(norm) + f(1e-6))) * f(maxNorm));
      const step = t + 1;
      // transformers 4.4.2: step_size = lr * sqrt(1 − β₂ᵗ) / (1 − β₁ᵗ) in Python floats, cast to float32 when used.
      const stepSize = f((lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step));
      names.forEach((_, k) => {
        gs[k].forEach((g0, i) => {
          const g = f(g0 * coef); // p.grad.mul_(clip_coef)
          m[k][i] = f(f(m[k][i] * f(b1)) + f(f(1 - b1) * g)); // exp_avg.mul_(β₁).add_(g, alpha=1−β₁)
          v[k][i] = f(f(v[k][i] * f(b2)) + f(f(f(1 - b2) * g) * g)); // exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
          const denom = f(f(Math.sqrt(v[k][i])) + f(eps)); // exp_avg_sq.sqrt().add_(ε)
          p[k][i] = f(p[k][i] - f(f(stepSize * m[k][i]) / denom)); // p.addcdiv_(exp_avg, denom, value=−step_size)
          if (decays[k]) p[k][i] = f(p[k][i] - f(f(lr * wd) * p[k][i])); // p.add_(p, alpha=−lr·λ)
        });
      });
      opt.step(params, grads, lr, clipCoefficient(globalGradNorm(grads.values()), maxNorm));
      names.forEach((n, k) => {
        expect([...params.get(n)!]).toEqual(p[k]);
        expect([...opt.stateTensors().get(`m:${n}`)!]).toEqual(m[k]);
        expect([...opt.stateTensors().get(`v:${n}`)!]).toEqual(v[k]);
      });
    });
  });
});

describe("gradient scale (the clipping factor folded into the update)", () => {
  for (const kind of ["sgd", "signgd", "adam"] as const) {
    it(`${kind}: step(g, scale) equals step(scale·g)`, () => {
      const a = mkParams();
      const b = mkParams();
      const oa = createOptimizer(kind, a, { weightDecay: 0.1 });
      const ob = createOptimizer(kind, b, { weightDecay: 0.1 });
      for (let t = 0; t < 3; t++) {
        oa.step(a, mkGrads(), 0.01, 0.37);
        const scaled = new Map([...mkGrads()].map(([k, g]) => [k, g.map((v) => v * 0.37)]));
        ob.step(b, scaled, 0.01);
      }
      for (const n of names)
        Array.from(a.get(n)!).forEach((v, i) => {
          expect(v).toBeCloseTo(b.get(n)![i], 6);
        });
      expect(() => oa.step(a, mkGrads(), 0.01, 0)).toThrow(/gradient scale must be finite and > 0/);
    });
  }
});

describe("row-sparse gradients (word embeddings, decoder): the dense update with zero rows, bit for bit", () => {
  const W = 3;
  const R = 6;
  const rows = Int32Array.from([1, 4]);
  // Step 0 touches rows 0 and 4, later steps 1 and 4: row 0 then moves by Adam's momentum alone; row 2 never.
  const rowsAt = (t: number) => (t === 0 ? Int32Array.from([0, 4]) : rows);
  const vals = [0.5, -2, 0.25, 1e-3, 0, -0.75];
  const init = () =>
    new Map([
      ["emb.word_embeddings.weight", Float32Array.from({ length: R * W }, (_, i) => Math.sin(i + 1))],
      ["dec.bias", Float32Array.from({ length: R * W }, (_, i) => Math.cos(i))],
      ["enc.dense.weight", f32([0.3, -0.6])],
    ]);
  const denseOf = (v: number[], rows: Int32Array) => {
    const g = new Float32Array(R * W);
    rows.forEach((r, k) => {
      g.set(v.slice(k * W, (k + 1) * W), r * W);
    });
    return g;
  };
  for (const kind of ["sgd", "signgd", "adam"] as const)
    for (const wd of [0, 0.1]) {
      it(`${kind}, weight decay ${wd}: 3 steps with clipping scale`, () => {
        const a = init();
        const b = init();
        const oa = createOptimizer(kind, a, { weightDecay: wd });
        const ob = createOptimizer(kind, b, { weightDecay: wd });
        let row0AfterFirst = 0;
        for (let t = 0; t < 3; t++) {
          if (t === 1) row0AfterFirst = b.get("emb.word_embeddings.weight")![0];
          const v = vals.map((x) => x * (t + 1));
          const dense = new Map([
            ["emb.word_embeddings.weight", denseOf(v, rowsAt(t))],
            [
              "dec.bias",
              denseOf(
                v.map((x) => -x),
                rowsAt(t),
              ),
            ],
            ["enc.dense.weight", f32([0.1 * t, -0.2])],
          ]);
          oa.step(a, dense, 0.01, 0.6);
          const sparse = new Map([
            ["emb.word_embeddings.weight", { rows: rowsAt(t), width: W, values: f32(v) }],
            ["dec.bias", { rows: rowsAt(t), width: W, values: f32(v.map((x) => -x)) }],
          ]);
          ob.step(b, new Map([["enc.dense.weight", f32([0.1 * t, -0.2])]]), 0.01, 0.6, sparse);
        }
        for (const [n, p] of a) expect(b.get(n)).toEqual(p);
        for (const [n, s] of oa.stateTensors()) expect(ob.stateTensors().get(n)).toEqual(s);
        // Untouched rows: row 2 (never touched) moves only by weight decay.
        const before = init().get("emb.word_embeddings.weight")!;
        const after = b.get("emb.word_embeddings.weight")!;
        expect(after[2 * W] !== before[2 * W]).toBe(wd > 0);
        // Row 0, touched at the first step only, keeps moving under Adam (m ≠ 0) and under decay.
        expect(after[0] !== row0AfterFirst).toBe(kind === "adam" || wd > 0);
      });
    }

  it("adam restored from its state tensors continues bit for bit (rows with momentum found again)", () => {
    const sparseAt = (t: number) =>
      new Map([
        ["emb.word_embeddings.weight", { rows: rowsAt(t), width: W, values: f32(vals.map((x) => x * (t + 1))) }],
      ]);
    const a = init();
    const oa = createOptimizer("adam", a, { weightDecay: 0.1 });
    oa.step(a, new Map(), 0.01, 1, sparseAt(0));
    const b = new Map([...a].map(([n, p]) => [n, p.slice()]));
    const ob = createOptimizer("adam", b, { weightDecay: 0.1 });
    for (const [n, s] of oa.stateTensors()) ob.stateTensors().get(n)!.set(s);
    ob.setStateMeta(oa.stateMeta());
    for (let t = 1; t < 3; t++) {
      oa.step(a, new Map(), 0.01, 1, sparseAt(t));
      ob.step(b, new Map(), 0.01, 1, sparseAt(t));
    }
    expect(b.get("emb.word_embeddings.weight")).toEqual(a.get("emb.word_embeddings.weight"));
    for (const [n, s] of oa.stateTensors()) expect(ob.stateTensors().get(n)).toEqual(s);
    // Row 0 had a gradient before the restore only: it kept moving by its momentum in the restored copy too.
    expect(ob.stateTensors().get("m:emb.word_embeddings.weight")![0]).not.toBe(0);
  });

  it("rejects malformed sparse gradients clearly", () => {
    const p = init();
    const opt = createOptimizer("sgd", p);
    const n = "emb.word_embeddings.weight";
    const bad = (s: { rows: Int32Array; width: number; values: Float32Array }) => () =>
      opt.step(p, new Map(), 0.1, 1, new Map([[n, s]]));
    expect(bad({ rows: Int32Array.from([4, 1]), width: W, values: new Float32Array(6) })).toThrow(/increasing/);
    expect(bad({ rows: Int32Array.from([6]), width: W, values: new Float32Array(3) })).toThrow(
      /increasing in \[0, 6\)/,
    );
    expect(bad({ rows, width: W, values: new Float32Array(5) })).toThrow(/5 values for 2 rows × 3/);
    expect(bad({ rows, width: 4, values: new Float32Array(8) })).toThrow(/width 4/);
    expect(() =>
      opt.step(p, new Map([[n, new Float32Array(18)]]), 0.1, 1, new Map([[n, { rows, width: W, values: f32(vals) }]])),
    ).toThrow(/both a dense and a sparse/);
  });
});
