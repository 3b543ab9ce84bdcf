import { closeSync, openSync, readSync } from "node:fs";
import type { LoadedWeights, TensorRef } from "./types.ts";

/** Index of the first NaN or ±Inf in `a`, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** A tensor's float32 values (in place ones are read from their file in pieces of at most 64 MiB). */
function* chunks(t: TensorRef): Generator<Float32Array> {
  if (t.data) {
    yield t.data;
    return;
  }
  if (!t.external) return;
  const fd = openSync(t.external.path, "r");
  try {
    const step = 1 << 26;
    for (let o = 0; o < t.external.length; o += step) {
      const n = Math.min(step, t.external.length - o);
      const buf = Buffer.alloc(n);
      readSync(fd, buf, 0, n, t.external.offset + o);
      yield new Float32Array(buf.buffer, buf.byteOffset, n >> 2);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The first weight tensor holding a NaN or ±Inf, with the element index, or undefined when all are finite. Reads
 * every weight once, so it is run only when a model output has already turned out non-finite.
 */
export function findNonFiniteWeight(w: LoadedWeights): { name: string; index: number; value: number } | undefined {
  for (const [name, t] of w.tensors) {
    let base = 0;
    for (const c of chunks(t)) {
      const i = firstNonFinite(c);
      if (i >= 0) return { name, index: base + i, value: c[i] };
      base += c.length;
    }
  }
  return undefined;
}

/** Throw, naming the weight tensor responsible if one is not finite, when `values` (model outputs) are not finite. */
export function assertFiniteOutputs(values: ArrayLike<number>, what: string, w: LoadedWeights): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  const bad = findNonFiniteWeight(w);
  const dir = w.source?.dir ?? "the model";
  throw new Error(
    bad
      ? `${dir}: weight tensor ${bad.name} holds ${bad.value} (element ${bad.index}), so the ${what} are not finite`
      : `the ${what} are not finite (${values[i]} at index ${i}) although every weight of ${dir} is: the model overflows`,
  );
}
