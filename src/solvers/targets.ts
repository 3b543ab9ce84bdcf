/**
 * Regression targets as the reference builds them (docs/protocol.md §4–5): binary mode → y = 2·label − 1 ∈ {−1, +1}
 * (one per example); multi-class → one-hot {0, 1}, flattened example-major (row n·C + c).
 */
export function targetsFromLabels(labels: Int32Array, C: number, binary: boolean, source = "labels"): Float64Array {
  if (binary) {
    if (C !== 1) throw new Error(`binary mode needs C = 1 kernel outputs, got C = ${C}`);
    return Float64Array.from(labels, (l, i) => {
      if (l !== 0 && l !== 1) throw new Error(`${source}: entry ${i} is ${l}; binary mode needs labels 0 or 1`);
      return 2 * l - 1;
    });
  }
  const y = new Float64Array(labels.length * C);
  labels.forEach((l, i) => {
    if (!(l >= 0 && l < C)) throw new Error(`${source}: entry ${i} is ${l}; expected a label index in [0, ${C})`);
    y[i * C + l] = 1;
  });
  return y;
}

/** The 0/1 class targets the logistic and SVC solvers use: trunc((t + 1)/2), mapping ±1 → 0/1 and 0/1 → 0/1. */
export function binaryClassTargets(y: Float64Array): Int32Array {
  return Int32Array.from(y, (t) => Math.trunc((t + 1) / 2));
}
