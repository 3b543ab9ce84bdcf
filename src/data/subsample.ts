import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { readDatasetVariant, writeDatasetVariant } from "./dataset-variant.ts";
import { formatTaskRows, readTaskRows } from "./kshot.ts";
import type { DataLayout } from "./layout.ts";
import { MT19937 } from "./mt19937.ts";

/**
 * Seed of the eval subsample. Fixed, not the split seed: the same file and n give the same examples for every
 * split seed, so the test set's gradients (cached per example) are shared by all seeds.
 */
export const EVAL_SUBSAMPLE_SEED = 0;

/**
 * A deterministic subsample of n of `total` rows, in file order: the first n of MT19937(seed)'s permutation
 * (numpy's `RandomState(seed).permutation(total)[:n]`), sorted. All rows when n ≥ total. Unlike the first n rows,
 * it is not skewed toward one class when a file is grouped by label.
 */
export function subsampleIndices(total: number, n: number, seed = EVAL_SUBSAMPLE_SEED): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`subsample size must be an integer >= 1, got ${n}`);
  if (n >= total) return Array.from({ length: total }, (_, i) => i);
  return new MT19937(seed)
    .permutation(total)
    .slice(0, n)
    .sort((a, b) => a - b);
}

/** The `subsampleIndices` subsample of `items` (file order kept): what every `--limit-eval`/`--limit-test` uses. */
export function subsample<T>(items: readonly T[], n: number, seed = EVAL_SUBSAMPLE_SEED): T[] {
  return subsampleIndices(items.length, n, seed).map((i) => items[i]);
}

/**
 * A copy of the k-shot split in `srcDir` whose dev and test files keep only a `subsampleIndices` subsample of n
 * rows each (headers kept, train and the dataset-variant marker copied), written atomically to `dstDir`. Returns the number of dev and test
 * rows written.
 */
export async function writeEvalSubsample(
  srcDir: string,
  dstDir: string,
  layout: DataLayout,
  n: number,
): Promise<{ dev: number; test: number }> {
  const counts = { dev: 0, test: 0 };
  for (const split of ["dev", "test"] as const) {
    const file = layout.files[split];
    const { header, rows } = readTaskRows(join(srcDir, file), layout);
    const keep = subsampleIndices(rows.length, n).map((i) => rows[i]);
    counts[split] = keep.length;
    await writeFileAtomic(join(dstDir, file), formatTaskRows(layout, { header, rows: keep as typeof rows }));
  }
  await writeDatasetVariant(dstDir, readDatasetVariant(srcDir));
  // Train last: a split directory counts as complete once all three files exist.
  await writeFileAtomic(join(dstDir, layout.files.train), await readFile(join(srcDir, layout.files.train)));
  return counts;
}
