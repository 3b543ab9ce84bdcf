import { closeSync, openSync, readSync } from "node:fs";
import onnxProto from "onnx-proto";
import type { Dim, DType, GraphLike, Shape, Tensor } from "./tensor.ts";

const { onnx } = onnxProto;

/** Reverse-mode rule of one taped operation: output cotangents → input cotangents (undefined: not needed/zero). */
export type Vjp = (dys: (Tensor | undefined)[], need: boolean[]) => (Tensor | undefined)[];

/**
 * Forward-mode rule of one taped operation: input tangents → output tangents (undefined: zero). Tangents have
 * the shape of their primal (one direction, no leading axis). Rules are written with taped ops, so a graph
 * holding JVP nodes can itself be differentiated in reverse mode (linearized training, docs/linearization.md).
 */
export type Jvp = (dxs: (Tensor | undefined)[]) => (Tensor | undefined)[];

/** One differentiable step on the tape: logical inputs → outputs (may span several ONNX nodes). */
export interface TapeEntry {
  inputs: Tensor[];
  outputs: Tensor[];
  vjp: Vjp;
  /** Absent: the op has no forward-mode rule (`jvp` in forward-mode.ts refuses to push a tangent through it). */
  jvp?: Jvp;
}

export type Attr =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "ints"; value: number[] }
  | { kind: "string"; value: string };
export const int = (value: number): Attr => ({ kind: "int", value });
export const float = (value: number): Attr => ({ kind: "float", value });
export const ints = (value: number[]): Attr => ({ kind: "ints", value });

/** Where an external-data file is written into the model: a location string, or null to inline its bytes. */
/** The ModelProto fields every entk graph shares: IR version 8, default-domain opset 17. */
export const MODEL_HEADER = { irVersion: 8, producerName: "entk", opsetImport: [{ domain: "", version: 17 }] };

export type Locate = (path: string) => string | null;

type TypedData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** Where an initializer's bytes live: in memory, or in place inside a file (ONNX external data). */
export type InitData = { data: TypedData } | { external: { path: string; offset: number; length: number } };

interface NodeRec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

interface InitRec {
  name: string;
  dtype: DType;
  shape: number[];
  src: InitData;
}

const ONNX_DTYPE: Record<DType, number> = { float32: 1, float64: 11, int64: 7, bool: 9 };

class Value implements Tensor {
  constructor(
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly graph: Graph,
  ) {}
}

/**
 * An ONNX graph under construction plus its autodiff tape. `floatType` is the dtype of every float value of the
 * model (float32 normally, float64 for gradient checks); ops read it when they make scalar constants.
 */
export class Graph implements GraphLike {
  readonly nodes: NodeRec[] = [];
  readonly tape: TapeEntry[] = [];
  readonly inputs: Tensor[] = [];
  readonly inits: InitRec[] = [];
  private readonly names = new Set<string>();
  private readonly consts = new Map<string, Tensor>();
  private taping = true;
  private counter = 0;

  constructor(readonly floatType: DType = "float32") {}

  private fresh(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** A graph input with a (possibly symbolic) shape. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = new Value(this.fresh(name), dtype, shape, this);
    this.inputs.push(t);
    return t;
  }

  /** An initializer (a parameter or a constant) with a static shape. */
  initializer(name: string, dtype: DType, shape: number[], src: InitData): Tensor {
    const t = new Value(this.fresh(name), dtype, shape, this);
    this.inits.push({ name: t.name, dtype, shape, src });
    return t;
  }

  /** A small constant, deduplicated by value. `dtype` defaults to the graph's float type. */
  constant(values: number[], shape: number[], dtype: DType = this.floatType): Tensor {
    const key = `${dtype}|${shape.join(",")}|${values.join(",")}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const data =
      dtype === "float32"
        ? Float32Array.from(values)
        : dtype === "float64"
          ? Float64Array.from(values)
          : dtype === "int64"
            ? BigInt64Array.from(values.map((v) => BigInt(v)))
            : Uint8Array.from(values);
    const t = this.initializer("const", dtype, shape, { data });
    this.consts.set(key, t);
    return t;
  }

  scalar(value: number, dtype: DType = this.floatType): Tensor {
    return this.constant([value], [], dtype);
  }

  /** Emit one ONNX node; `outs` gives each output's dtype and shape. `null` inputs are omitted optional inputs. */
  node(
    op: string,
    inputs: (Tensor | null)[],
    outs: { dtype: DType; shape: Shape }[],
    attrs: Record<string, Attr> = {},
  ): Tensor[] {
    for (const t of inputs) if (t && t.graph !== this) throw new Error(`${op}: input ${t.name} is from another graph`);
    const outputs = outs.map((o) => new Value(this.fresh(op.toLowerCase()), o.dtype, o.shape, this));
    this.nodes.push({ op, inputs: inputs.map((t) => t?.name ?? ""), outputs: outputs.map((t) => t.name), attrs });
    return outputs;
  }

  /** Record a differentiable step (no-op while building backward helpers inside `untaped`). */
  record(inputs: Tensor[], outputs: Tensor[], vjp: Vjp, jvp?: Jvp): void {
    if (this.taping) this.tape.push({ inputs, outputs, vjp, ...(jvp ? { jvp } : {}) });
  }

  /** Run `fn` without taping: the ops it emits are parts of a composite op whose VJP the caller records. */
  untaped<T>(fn: () => T): T {
    const prev = this.taping;
    this.taping = false;
    try {
      return fn();
    } finally {
      this.taping = prev;
    }
  }

  /**
   * Serialize to an ONNX ModelProto (IR 8, opset 17) with the given graph outputs. `locate` maps the path of an
   * external-data file to the location written into the model (ORT wants it relative to the model file), or to
   * null to copy the bytes into the model instead.
   */
  toModel(outputs: Tensor[], locate: Locate = (p) => p): Uint8Array {
    const valueInfo = (t: Tensor) => ({
      name: t.name,
      type: {
        tensorType: {
          elemType: ONNX_DTYPE[t.dtype],
          shape: { dim: t.shape.map((d: Dim) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    // A graph input or initializer cannot be listed as an output as-is: route it through an Identity node.
    const direct = new Set([...this.inputs.map((t) => t.name), ...this.inits.map((i) => i.name)]);
    const extra: NodeRec[] = [];
    const outNames = outputs.map((t) => {
      if (!direct.has(t.name)) return t.name;
      const alias = `${t.name}__out${extra.length}`;
      extra.push({ op: "Identity", inputs: [t.name], outputs: [alias], attrs: {} });
      return alias;
    });
    if (new Set(outNames).size !== outNames.length) throw new Error("a graph output is listed twice");
    const model = onnx.ModelProto.create({
      ...MODEL_HEADER,
      graph: {
        name: "entk",
        node: [...this.nodes, ...extra].map((n) => ({
          opType: n.op,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([k, a]) => encodeAttr(k, a)),
        })),
        input: this.inputs.map(valueInfo),
        initializer: this.inits.map((i) => encodeInit(i, locate)),
        output: outputs.map((t, i) => ({ ...valueInfo(t), name: outNames[i] })),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function encodeAttr(name: string, a: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case "int":
      return { name, type: T.INT, i: a.value };
    case "float":
      return { name, type: T.FLOAT, f: a.value };
    case "ints":
      return { name, type: T.INTS, ints: a.value };
    case "string":
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function encodeInit(init: InitRec, locate: Locate) {
  const base = { name: init.name, dataType: ONNX_DTYPE[init.dtype], dims: init.shape };
  if ("data" in init.src) {
    const d = init.src.data;
    return { ...base, rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
  }
  const { path, offset, length } = init.src.external;
  const location = locate(path);
  if (location === null) {
    const rawData = Buffer.alloc(length);
    const fd = openSync(path, "r");
    try {
      if (readSync(fd, rawData, 0, length, offset) !== length) throw new Error(`${path}: short read for ${init.name}`);
    } finally {
      closeSync(fd);
    }
    return { ...base, rawData };
  }
  return {
    ...base,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(length) },
    ],
  };
}
