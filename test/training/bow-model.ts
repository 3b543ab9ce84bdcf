/**
 * Test helper: a bag-of-embeddings prompt model on real checkpoint parameters, with analytic gradients:
 *   h = mean_t E[id_t],  z_c = D[w_c] · h + b[w_c]
 * (E: word embeddings, D: the untied decoder weight, b: the head bias, w_c: label-word ids). It holds every
 * parameter of the checkpoint (so checkpoints are complete) but only E, D and b get gradients; the rest are
 * absent from `grads`, like torch parameters with `grad is None`.
 */
import type { PromptInput } from "../../src/model/types.ts";
import { headNames, wordEmbeddingsName } from "../../src/model/weights/params.ts";
import type { LoadedWeights } from "../../src/model/weights/types.ts";
import { materializeParams } from "../../src/training/hf-checkpoint.ts";
import type { FinetuneModel } from "../../src/training/types.ts";

export function bowModel(weights: LoadedWeights, labelWordIds: number[]): FinetuneModel {
  const params = materializeParams(weights);
  const H = weights.config.hiddenSize;
  const names = {
    E: wordEmbeddingsName(weights.config),
    D: headNames(weights.config).decoderWeight,
    b: headNames(weights.config).bias,
  };
  const C = labelWordIds.length;
  const forward = (inp: PromptInput) => {
    const E = params.get(names.E)!;
    const D = params.get(names.D)!;
    const b = params.get(names.b)!;
    const T = inp.inputIds.length;
    const h = new Float64Array(H);
    for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) h[j] += E[inp.inputIds[t] * H + j] / T;
    const z = labelWordIds.map((w) => {
      let s = b[w];
      for (let j = 0; j < H; j++) s += D[w * H + j] * h[j];
      return s;
    });
    return { h, z, T };
  };
  return {
    numLabels: C,
    params,
    async logits(inputs) {
      return Float32Array.from(inputs.flatMap((inp) => forward(inp).z));
    },
    async lossAndGrad(inputs, labels) {
      const D = params.get(names.D)!;
      const gE = new Float32Array(params.get(names.E)!.length);
      const gD = new Float32Array(D.length);
      const gb = new Float32Array(params.get(names.b)!.length);
      let loss = 0;
      const B = inputs.length;
      inputs.forEach((inp, r) => {
        const { h, z, T } = forward(inp);
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const sum = e.reduce((a, v) => a + v, 0);
        loss -= (z[labels[r]] - mx - Math.log(sum)) / B;
        const dh = new Float64Array(H);
        labelWordIds.forEach((w, c) => {
          const dz = (e[c] / sum - (c === labels[r] ? 1 : 0)) / B;
          gb[w] += dz;
          for (let j = 0; j < H; j++) {
            gD[w * H + j] += dz * h[j];
            dh[j] += dz * D[w * H + j];
          }
        });
        for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) gE[inp.inputIds[t] * H + j] += dh[j] / T;
      });
      return {
        loss,
        grads: new Map([
          [names.E, gE],
          [names.D, gD],
          [names.b, gb],
        ]),
      };
    },
  };
}
