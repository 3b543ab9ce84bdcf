/**
 * scikit-learn's `StratifiedKFold(n_splits, shuffle=False)._make_test_folds` (0.22+): classes are numbered by
 * first appearance; the per-fold count of each class is the round-robin allocation over the sorted encoded labels
 * (`bincount(sorted_y[i::n_splits])`); then each class's samples, in data order, get fold indices in blocks
 * (`arange(n_splits).repeat(allocation[:, k])`). Returns the test fold of every sample.
 */
export function stratifiedTestFolds(y: ArrayLike<number>, nSplits: number): Int32Array {
  const n = y.length;
  const firstSeen = new Map<number, number>();
  const enc = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!firstSeen.has(y[i])) firstSeen.set(y[i], firstSeen.size);
    enc[i] = firstSeen.get(y[i])!;
  }
  const nClasses = firstSeen.size;
  const counts = new Int32Array(nClasses);
  for (const e of enc) counts[e]++;
  if (counts.every((c) => nSplits > c))
    throw new Error(`n_splits=${nSplits} cannot be greater than the number of members in each class`);
  const sorted = Int32Array.from(enc).sort();
  // allocation[f][k] = number of class-k samples in test fold f.
  const allocation = Array.from({ length: nSplits }, () => new Int32Array(nClasses));
  for (let i = 0; i < n; i++) allocation[i % nSplits][sorted[i]]++;
  const folds = new Int32Array(n);
  for (let k = 0; k < nClasses; k++) {
    const blocks: number[] = [];
    for (let f = 0; f < nSplits; f++) for (let c = 0; c < allocation[f][k]; c++) blocks.push(f);
    let next = 0;
    for (let i = 0; i < n; i++) if (enc[i] === k) folds[i] = blocks[next++];
  }
  return folds;
}

/** The smallest class count (sklearn warns when it is below n_splits). */
export function minClassCount(y: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < y.length; i++) counts.set(y[i], (counts.get(y[i]) ?? 0) + 1);
  return Math.min(...counts.values());
}
