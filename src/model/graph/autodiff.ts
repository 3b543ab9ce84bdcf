/** Reverse-mode autodiff over a graph's tape: appends the backward nodes to the same graph. */
import type { Graph } from "./graph.ts";
import { add } from "./ops.ts";
import type { Tensor } from "./tensor.ts";
import { shapeStr } from "./tensor.ts";

/**
 * Cotangents of `wrt` given output cotangents. `cotangents[i]` has shape [C, ...outputs[i].shape] — the
 * leading axis stacks C independent seeds, so one backward pass yields C gradients (e.g. the C Jacobian rows
 * with one-hot seeds). Each result has shape [C, ...wrt[j].shape]; `wrt` may be parameters or intermediate
 * values (then the result is ∂f/∂value, e.g. a linear layer's output cotangent Δ). Only steps on a path from
 * some `wrt` to some output are differentiated. Throws if a `wrt` value does not influence the outputs.
 */
export function grad(outputs: Tensor[], cotangents: Tensor[], wrt: Tensor[]): Tensor[] {
  if (outputs.length !== cotangents.length) throw new Error("grad: one cotangent per output");
  const g = outputs[0].graph as Graph;
  outputs.forEach((o, i) => {
    const c = cotangents[i];
    if (c.shape.length !== o.shape.length + 1 || c.shape.slice(1).some((d, j) => d !== o.shape[j]))
      throw new Error(`grad: cotangent ${shapeStr(c.shape)} must be [C, ...${shapeStr(o.shape)}]`);
  });
  const tape = g.tape.slice();
  // Forward sweep: values that depend on some wrt.
  const fromWrt = new Set(wrt.map((t) => t.name));
  for (const e of tape) if (e.inputs.some((t) => fromWrt.has(t.name))) for (const o of e.outputs) fromWrt.add(o.name);
  // Backward sweep: values some output depends on.
  const toOut = new Set(outputs.map((t) => t.name));
  for (let i = tape.length - 1; i >= 0; i--) {
    const e = tape[i];
    if (e.outputs.some((t) => toOut.has(t.name))) for (const t of e.inputs) toOut.add(t.name);
  }
  const onPath = (t: Tensor) => fromWrt.has(t.name) && toOut.has(t.name);

  const cot = new Map<string, Tensor>();
  const accumulate = (t: Tensor, d: Tensor) => {
    const prev = cot.get(t.name);
    cot.set(t.name, prev ? add(prev, d) : d);
  };
  outputs.forEach((o, i) => {
    accumulate(o, cotangents[i]);
  });
  for (let i = tape.length - 1; i >= 0; i--) {
    const e = tape[i];
    const dys = e.outputs.map((t) => cot.get(t.name));
    if (dys.every((d) => d === undefined)) continue;
    const need = e.inputs.map(onPath);
    if (!need.some(Boolean)) continue;
    const dxs = e.vjp(dys, need);
    e.inputs.forEach((t, j) => {
      const d = dxs[j];
      if (need[j] && d) accumulate(t, d);
    });
  }
  return wrt.map((t) => {
    const d = cot.get(t.name);
    if (!d) throw new Error(`grad: ${t.name} does not influence the outputs`);
    return d;
  });
}
