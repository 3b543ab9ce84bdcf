/**
 * Per-example gradient information in factored form (docs/kernels.md §3). This is the contract between
 * the engine (src/model), which produces it from one reverse pass per example, and the kernels (src/kernels),
 * which contract it. All arrays are float32, row-major, and unpadded (T = the example's true token count).
 * Treat them as read-only: an array may be a view into a buffer shared with other examples of the same batch.
 *
 * Every trainable parameter of the model appears in exactly one of `linears` (weight, and its bias if any),
 * `dense`, `sparse`, or `zero`.
 */

/** A linear layer Y = X Wᵀ + b: ∂f_c/∂W = Δ_cᵀ X (dOut × dIn) and ∂f_c/∂b = Σ_t Δ_c[t]. */
export interface LinearFactor {
  /** HF name of the weight, e.g. "roberta.encoder.layer.0.attention.self.query.weight" (shape [dOut, dIn]). */
  weight: string;
  /** HF name of the bias, if the layer has one and it is not listed in `zero`. */
  bias?: string;
  T: number;
  dIn: number;
  dOut: number;
  /** Inputs X, [T, dIn]. Layers that share an input (q, k, v) may share this array. */
  X: Float32Array;
  /** Output cotangents Δ, [C, T, dOut] — one slice per output f_c. */
  delta: Float32Array;
}

/** A small tensor whose per-output gradient is stored dense: [C, size] (LayerNorm γ/β, ...). */
export interface DenseGrad {
  param: string;
  size: number;
  values: Float32Array;
}

/**
 * A tensor of shape [numRows, width] whose gradient is nonzero on a few rows only (word/position embeddings,
 * the untied decoder rows of the label words, the decoder bias). `rows` are unique and ascending;
 * `values` is [C, rows.length, width].
 */
export interface SparseRowsGrad {
  param: string;
  numRows: number;
  width: number;
  rows: Int32Array;
  values: Float32Array;
}

export interface ExampleGradFactors {
  /** Number of outputs (label words; 1 in binary mode where f = f₁ − f₀). */
  C: number;
  linears: LinearFactor[];
  dense: DenseGrad[];
  sparse: SparseRowsGrad[];
  /** Parameters whose gradient is exactly zero (e.g. the attention key bias: softmax ignores a constant shift). */
  zero: string[];
}

/** Name, shape and element count of one trainable parameter. */
export interface ParamInfo {
  name: string;
  shape: number[];
  size: number;
}
