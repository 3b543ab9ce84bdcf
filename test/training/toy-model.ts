/**
 * Test helper: a softmax-regression "prompt model" on fixed features, with analytic gradients, implementing the
 * training layer's FinetuneModel. Example i's input is inputIds = [i] (a row of `features`). Dropout (rate p)
 * zeroes feature entries with a mask drawn from the step's dropoutSeed and scales the rest by 1/(1−p), so runs
 * are deterministic given the seeds.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { PromptInput } from "../../src/model/types.ts";
import type { CheckpointIO, FinetuneModel, LabeledExample } from "../../src/training/types.ts";
import { readNpy, writeNpy } from "../../src/util/npy.ts";

export class ToyModel implements FinetuneModel {
  readonly params = new Map<string, Float32Array>();
  calls = 0;
  constructor(
    readonly features: Float64Array[],
    readonly numLabels: number,
    readonly dropout = 0,
    init?: (name: string, i: number) => number,
  ) {
    const D = features[0].length;
    const C = numLabels;
    const mk = (name: string, n: number) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = init ? init(name, i) : 0.1 * Math.sin(1 + i * 7.3 + name.length);
      this.params.set(name, a);
    };
    mk("head.dense.weight", C * D);
    mk("head.dense.bias", C);
    mk("head.LayerNorm.weight", D); // elementwise feature gain (exercises the weight-decay mask)
  }

  /** z = W (γ ⊙ x ⊙ mask) + b in float64. */
  forward(id: number, mask?: Float64Array): Float64Array {
    const x = this.features[id];
    const D = x.length;
    const W = this.params.get("head.dense.weight")!;
    const b = this.params.get("head.dense.bias")!;
    const g = this.params.get("head.LayerNorm.weight")!;
    const z = new Float64Array(this.numLabels);
    for (let c = 0; c < this.numLabels; c++) {
      let s = b[c];
      for (let d = 0; d < D; d++) s += W[c * D + d] * g[d] * x[d] * (mask ? mask[d] : 1);
      z[c] = s;
    }
    return z;
  }

  async logits(inputs: PromptInput[]): Promise<Float32Array> {
    const out = new Float32Array(inputs.length * this.numLabels);
    for (const [r, inp] of inputs.entries()) out.set(this.forward(inp.inputIds[0]), r * this.numLabels);
    return out;
  }

  dropoutMasks(n: number, seed: number): Float64Array[] {
    const D = this.features[0].length;
    let s = seed >>> 0;
    const u = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    return Array.from({ length: n }, () => {
      const m = new Float64Array(D);
      for (let d = 0; d < D; d++) m[d] = this.dropout > 0 && u() < this.dropout ? 0 : 1 / (1 - this.dropout);
      return m;
    });
  }

  async lossAndGrad(inputs: PromptInput[], labels: ArrayLike<number>, opts: { dropoutSeed: number }) {
    this.calls++;
    const C = this.numLabels;
    const D = this.features[0].length;
    const W = this.params.get("head.dense.weight")!;
    const g = this.params.get("head.LayerNorm.weight")!;
    const gW = new Float64Array(C * D);
    const gb = new Float64Array(C);
    const gg = new Float64Array(D);
    const masks = this.dropoutMasks(inputs.length, opts.dropoutSeed);
    let loss = 0;
    const B = inputs.length;
    inputs.forEach((inp, r) => {
      const id = inp.inputIds[0];
      const x = this.features[id];
      const z = this.forward(id, masks[r]);
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const sum = e.reduce((a, b) => a + b, 0);
      loss += -(z[labels[r]] - mx - Math.log(sum)) / B;
      for (let c = 0; c < C; c++) {
        const dz = (e[c] / sum - (c === labels[r] ? 1 : 0)) / B;
        gb[c] += dz;
        for (let d = 0; d < D; d++) {
          const xm = x[d] * masks[r][d];
          gW[c * D + d] += dz * g[d] * xm;
          gg[d] += dz * W[c * D + d] * xm;
        }
      }
    });
    const grads = new Map<string, Float32Array>([
      ["head.dense.weight", Float32Array.from(gW)],
      ["head.dense.bias", Float32Array.from(gb)],
      ["head.LayerNorm.weight", Float32Array.from(gg)],
    ]);
    return { loss, grads };
  }
}

/** A linearly separable C-class problem: class c examples cluster around a distinct direction. */
export function separableData(n: number, C: number, D: number, seed: number) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const features: Float64Array[] = [];
  const examples: LabeledExample[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % C;
    const x = new Float64Array(D);
    for (let d = 0; d < D; d++) x[d] = 0.3 * u() + (d % C === label ? 1 : 0);
    features.push(x);
    examples.push({ input: { inputIds: [i], maskPos: 0 }, label });
  }
  return { features, examples };
}

/** A CheckpointIO writing one .npy per parameter (the real HF/safetensors writer is plugged by the CLI). */
export const npyCheckpointIO: CheckpointIO = {
  async save(dir, params) {
    for (const [name, a] of params) await writeNpy(join(dir, `${name}.npy`), a, [a.length]);
  },
  async load(dir) {
    const out = new Map<string, Float32Array>();
    for (const f of readdirSync(dir))
      if (f.endsWith(".npy")) out.set(f.slice(0, -4), readNpy(join(dir, f)).data as Float32Array);
    return out;
  },
};
