/**
 * Weights as the engine sees them (contract between src/model/weights, which loads and validates checkpoints,
 * and the graph builders in src/model/arch, which reference tensors from ONNX graphs).
 */

/** Architecture settings read from a Hugging Face config.json (camelCase of the HF keys). */
export interface ModelConfig {
  modelType: "roberta" | "bert";
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
}

/**
 * One float32 tensor, either held in memory (`data`) or referenced in place inside a file (`external`: byte
 * offset and length into e.g. model.safetensors), which ONNX external data points at without copying.
 */
export interface TensorRef {
  name: string;
  shape: number[];
  data?: Float32Array;
  external?: { path: string; offset: number; length: number };
}

export interface LoadedWeights {
  config: ModelConfig;
  /** Every parameter by its Hugging Face name (e.g. "roberta.encoder.layer.0.attention.self.query.weight"). */
  tensors: Map<string, TensorRef>;
  /** Content hash identifying these weights (for caches and result records). */
  hash: string;
  /** Where they came from: a directory, or a Hub repo id and revision. */
  source: { dir: string; repoId?: string; revision?: string };
}
