/**
 * An independent forward pass of the prompt MLM in @tensorflow/tfjs-core (cpu backend), written from the HF
 * modelling code, one unpadded example at a time — the oracle for the engine's logits and gradients.
 */
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import type { PromptInput } from "../../src/model/types.ts";
import { modelNames } from "../../src/model/weights/params.ts";
import type { LoadedWeights } from "../../src/model/weights/types.ts";
import { refValues } from "./weights/helpers.ts";

await tf.setBackend("cpu");

type P = Record<string, tf.Tensor>;

function ln(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
}
const lin = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
  tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b);
const gelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));

/** The encoder's last hidden states [T, H] of one unpadded example. */
export function tfHidden(w: LoadedWeights, p: P, x: PromptInput): tf.Tensor {
  const cfg = w.config;
  const n = modelNames(cfg);
  const T = x.inputIds.length;
  const H = cfg.hiddenSize;
  const nh = cfg.numAttentionHeads;
  const dh = H / nh;
  const ids = tf.tensor1d(Array.from(x.inputIds), "int32");
  // RoBERTa: positions start at padding_idx + 1 (no pads inside one unpadded example); BERT: 0..T−1.
  const start = cfg.modelType === "roberta" ? cfg.padTokenId + 1 : 0;
  const pos = tf.range(start, start + T, 1, "int32");
  let h = tf.add(tf.add(tf.gather(p[n.wordEmb], ids), tf.gather(p[n.posEmb], pos)), tf.gather(p[n.typeEmb], [0]));
  h = ln(h, p[n.embNorm.weight], p[n.embNorm.bias], cfg.layerNormEps);
  for (const l of n.layers) {
    const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [T, nh, dh]), [1, 0, 2]);
    const q = split(lin(h, p[l.query.weight], p[l.query.bias]));
    const k = split(lin(h, p[l.key.weight], p[l.key.bias]));
    const v = split(lin(h, p[l.value.weight], p[l.value.bias]));
    const probs = tf.softmax(tf.div(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), Math.sqrt(dh)));
    const ctx = tf.reshape(tf.transpose(tf.matMul(probs as tf.Tensor3D, v as tf.Tensor3D), [1, 0, 2]), [T, H]);
    const a = ln(
      tf.add(lin(ctx, p[l.attnOut.weight], p[l.attnOut.bias]), h),
      p[l.attnNorm.weight],
      p[l.attnNorm.bias],
      cfg.layerNormEps,
    );
    const ff = lin(gelu(lin(a, p[l.inter.weight], p[l.inter.bias])), p[l.out.weight], p[l.out.bias]);
    h = ln(tf.add(ff, a), p[l.outNorm.weight], p[l.outNorm.bias], cfg.layerNormEps);
  }
  return h;
}

/** The MLM head's transformed hidden state h̃ at the mask, [1, H] (what the decoder reads). */
export function tfMaskFeature(w: LoadedWeights, p: P, x: PromptInput): tf.Tensor {
  const cfg = w.config;
  const n = modelNames(cfg);
  const hm = tf.gather(tfHidden(w, p, x), [x.maskPos]);
  return ln(
    gelu(lin(hm, p[n.headDense.weight], p[n.headDense.bias])),
    p[n.headNorm.weight],
    p[n.headNorm.bias],
    cfg.layerNormEps,
  );
}

/** f(x) for one example: label-word logits at the mask ([C]; binary: [1] = z[w1] − z[w0]). */
export function tfPromptF(w: LoadedWeights, p: P, x: PromptInput, labelIds: number[], binary: boolean): tf.Tensor1D {
  const cfg = w.config;
  const n = modelNames(cfg);
  const feat = tfMaskFeature(w, p, x);
  const z = tf.reshape(
    tf.add(tf.matMul(feat as tf.Tensor2D, p[n.decoder] as tf.Tensor2D, false, true), p[n.decoderBias]),
    [cfg.vocabSize],
  );
  const zl = tf.gather(z, labelIds);
  if (!binary) return zl as tf.Tensor1D;
  return tf.reshape(tf.sub(tf.gather(zl, [1]), tf.gather(zl, [0])), [1]) as tf.Tensor1D;
}

export function tfParams(w: LoadedWeights): P {
  const p: P = {};
  for (const [name, t] of w.tensors) p[name] = tf.tensor(refValues(t), t.shape, "float32");
  return p;
}

/** f and, for every output c, the gradient of f_c with respect to every parameter (tfjs autodiff). */
export function tfFAndGrads(w: LoadedWeights, x: PromptInput, labelIds: number[], binary: boolean) {
  const p = tfParams(w);
  const names = Object.keys(p);
  const f = tfPromptF(w, p, x, labelIds, binary).dataSync();
  const grads: Map<string, Float32Array>[] = [];
  for (let c = 0; c < f.length; c++) {
    const g = tf.grads((...vals: tf.Tensor[]) => {
      const q: P = {};
      names.forEach((nm, i) => {
        q[nm] = vals[i];
      });
      return tf.reshape(tf.gather(tfPromptF(w, q, x, labelIds, binary), [c]), []);
    })(names.map((nm) => p[nm]));
    grads.push(new Map(names.map((nm, i) => [nm, g[i].dataSync() as Float32Array])));
  }
  return { f: Float32Array.from(f), grads };
}

/** Mean cross-entropy over the label-word logits of a batch, and its gradient for every parameter (tfjs). */
export function tfLossAndGrads(w: LoadedWeights, xs: PromptInput[], labels: number[], labelIds: number[]) {
  const p = tfParams(w);
  const names = Object.keys(p);
  const lossOf = (q: P) => {
    const losses = xs.map((x, i) => {
      const z = tfPromptF(w, q, x, labelIds, false);
      return tf.neg(tf.gather(tf.logSoftmax(z), [labels[i]]));
    });
    return tf.mean(tf.concat(losses));
  };
  const { value, grads } = tf.valueAndGrads((...vals: tf.Tensor[]) => {
    const q: P = {};
    names.forEach((nm, i) => {
      q[nm] = vals[i];
    });
    return lossOf(q) as tf.Scalar;
  })(names.map((nm) => p[nm]));
  return { loss: value.dataSync()[0], grads: new Map(names.map((nm, i) => [nm, grads[i].dataSync() as Float32Array])) };
}
