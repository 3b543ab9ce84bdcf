/** Symbolic tensors: typed values of an ONNX graph under construction, with named dynamic dims ("batch", "seq"). */

export type DType = "float32" | "float64" | "int64" | "bool";
/** A static size, or the name of a dynamic dimension (ONNX `dim_param`). */
export type Dim = number | string;
export type Shape = Dim[];

/** A value in a graph. `name` is its ONNX value name; `graph` is the graph that produces it. */
export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly graph: GraphLike;
}

/** What a tensor needs from its graph (breaks the import cycle graph ⇄ tensor). */
export interface GraphLike {
  readonly floatType: DType;
}

export function rank(t: Tensor): number {
  return t.shape.length;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Numpy-style broadcast of two shapes; named dims only match themselves or 1. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new Error(`cannot broadcast shapes ${shapeStr(a)} and ${shapeStr(b)}`);
  }
  return out;
}
