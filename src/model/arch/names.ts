/** Hugging Face parameter names of the RoBERTa/BERT masked-LM checkpoints entk runs. */
import type { ModelConfig } from "../weights/types.ts";

export interface LayerNames {
  query: { weight: string; bias: string };
  key: { weight: string; bias: string };
  value: { weight: string; bias: string };
  attnOut: { weight: string; bias: string };
  attnNorm: { weight: string; bias: string };
  inter: { weight: string; bias: string };
  out: { weight: string; bias: string };
  outNorm: { weight: string; bias: string };
}

export interface ModelNames {
  wordEmb: string;
  posEmb: string;
  typeEmb: string;
  embNorm: { weight: string; bias: string };
  layers: LayerNames[];
  headDense: { weight: string; bias: string };
  headNorm: { weight: string; bias: string };
  /** The untied decoder weight [vocab, hidden] (REFERENCE §4). */
  decoder: string;
  /** The decoder bias [vocab] (`lm_head.bias` ≡ `lm_head.decoder.bias`). */
  decoderBias: string;
}

const wb = (p: string) => ({ weight: `${p}.weight`, bias: `${p}.bias` });

export function modelNames(config: ModelConfig): ModelNames {
  const base = config.modelType; // "roberta" | "bert"
  const layers = Array.from({ length: config.numHiddenLayers }, (_, i): LayerNames => {
    const l = `${base}.encoder.layer.${i}`;
    return {
      query: wb(`${l}.attention.self.query`),
      key: wb(`${l}.attention.self.key`),
      value: wb(`${l}.attention.self.value`),
      attnOut: wb(`${l}.attention.output.dense`),
      attnNorm: wb(`${l}.attention.output.LayerNorm`),
      inter: wb(`${l}.intermediate.dense`),
      out: wb(`${l}.output.dense`),
      outNorm: wb(`${l}.output.LayerNorm`),
    };
  });
  const common = {
    wordEmb: `${base}.embeddings.word_embeddings.weight`,
    posEmb: `${base}.embeddings.position_embeddings.weight`,
    typeEmb: `${base}.embeddings.token_type_embeddings.weight`,
    embNorm: wb(`${base}.embeddings.LayerNorm`),
    layers,
  };
  if (base === "roberta")
    return {
      ...common,
      headDense: wb("lm_head.dense"),
      headNorm: wb("lm_head.layer_norm"),
      decoder: "lm_head.decoder.weight",
      decoderBias: "lm_head.bias",
    };
  return {
    ...common,
    headDense: wb("cls.predictions.transform.dense"),
    headNorm: wb("cls.predictions.transform.LayerNorm"),
    decoder: "cls.predictions.decoder.weight",
    decoderBias: "cls.predictions.bias",
  };
}

/** Every parameter f(x) uses, with its expected shape. */
export function usedParams(config: ModelConfig): Map<string, number[]> {
  const n = modelNames(config);
  const H = config.hiddenSize;
  const F = config.intermediateSize;
  const m = new Map<string, number[]>();
  m.set(n.wordEmb, [config.vocabSize, H]);
  m.set(n.posEmb, [config.maxPositionEmbeddings, H]);
  m.set(n.typeEmb, [config.typeVocabSize, H]);
  const norm = (p: { weight: string; bias: string }) => {
    m.set(p.weight, [H]);
    m.set(p.bias, [H]);
  };
  const lin = (p: { weight: string; bias: string }, dOut: number, dIn: number) => {
    m.set(p.weight, [dOut, dIn]);
    m.set(p.bias, [dOut]);
  };
  norm(n.embNorm);
  for (const l of n.layers) {
    lin(l.query, H, H);
    lin(l.key, H, H);
    lin(l.value, H, H);
    lin(l.attnOut, H, H);
    norm(l.attnNorm);
    lin(l.inter, F, H);
    lin(l.out, H, F);
    norm(l.outNorm);
  }
  lin(n.headDense, H, H);
  norm(n.headNorm);
  m.set(n.decoder, [config.vocabSize, H]);
  m.set(n.decoderBias, [config.vocabSize]);
  return m;
}
