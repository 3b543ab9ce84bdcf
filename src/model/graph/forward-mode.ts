/** Forward-mode autodiff over a graph's tape: appends the tangent nodes (each op's `jvp` rule) to the same graph. */
import type { Graph } from "./graph.ts";
import { shapeStr, type Tensor } from "./tensor.ts";

/**
 * Tangents of `outputs` given tangents of `wrt`: the Jacobian-vector product J·v in one forward sweep, the
 * tangent of a value having its shape (one direction). `wrt` may be parameters or intermediate values. An output
 * that does not depend on any `wrt` gets `undefined` (a zero tangent). Throws if a tangent would have to pass
 * through an op that has no forward-mode rule. The rules are built from taped ops, so `grad` can differentiate
 * the returned tangents again (e.g. with respect to the tangent inputs: Jᵀ·u through J·v).
 */
export function jvp(outputs: Tensor[], wrt: Tensor[], tangents: Tensor[]): (Tensor | undefined)[] {
  if (wrt.length !== tangents.length) throw new Error("jvp: one tangent per wrt value");
  wrt.forEach((w, i) => {
    const t = tangents[i];
    if (t.dtype !== w.dtype || shapeStr(t.shape) !== shapeStr(w.shape))
      throw new Error(
        `jvp: tangent ${t.name} ${t.dtype}${shapeStr(t.shape)} must match ${w.name} ${w.dtype}${shapeStr(w.shape)}`,
      );
  });
  if (outputs.length === 0) return [];
  const g = outputs[0].graph as Graph;
  const tan = new Map<string, Tensor>(wrt.map((w, i) => [w.name, tangents[i]]));
  // Only entries on a path to some output are pushed forward.
  const toOut = new Set(outputs.map((t) => t.name));
  const tape = g.tape.slice();
  for (let i = tape.length - 1; i >= 0; i--) {
    const e = tape[i];
    if (e.outputs.some((t) => toOut.has(t.name))) for (const t of e.inputs) toOut.add(t.name);
  }
  for (const e of tape) {
    if (!e.outputs.some((t) => toOut.has(t.name))) continue;
    const dxs = e.inputs.map((t) => tan.get(t.name));
    if (dxs.every((d) => d === undefined)) continue;
    if (e.outputs.some((t) => tan.has(t.name))) continue; // a wrt value produced by this op: its tangent is given
    if (!e.jvp)
      throw new Error(`jvp: no forward-mode rule for the op producing ${e.outputs.map((t) => t.name).join(", ")}`);
    const dys = e.jvp(dxs);
    e.outputs.forEach((t, j) => {
      const d = dys[j];
      if (d) tan.set(t.name, d);
    });
  }
  return outputs.map((o) => tan.get(o.name));
}
