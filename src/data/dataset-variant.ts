import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";

/**
 * Which data a folder of LM-BFF tasks holds (docs/protocol.md §1.3):
 * - "lm-bff": LM-BFF's `original/` as published — `SST-2` is the 6,920-sentence SST-2 (GLUE's is `GLUE-SST-2`),
 *   `cr` tests on 1,000 reviews per class;
 * - "kernel-paper": after the kernel paper's changes (`entk data fetch --kernel-paper`) — `SST-2` holds GLUE's
 *   SST-2 and `cr` is re-split to 250 test reviews per class.
 * `entk data fetch` records it in `original/`, `entk data split` copies it into every split directory, and kernel
 * and fine-tuning records carry it, so that the report compares a task with the paper only when it is the paper's
 * data. A folder without the marker (LM-BFF's own files, splits made elsewhere) is "lm-bff".
 */
export type DatasetVariant = "lm-bff" | "kernel-paper";
export const DATASET_VARIANTS: readonly DatasetVariant[] = ["lm-bff", "kernel-paper"];

/** The marker file, in `original/` and in each split directory. */
export const DATASET_MARKER = "entk-dataset.json";

export function isDatasetVariant(v: unknown): v is DatasetVariant {
  return DATASET_VARIANTS.includes(v as DatasetVariant);
}

/** The variant recorded in `dir` ("lm-bff" when there is no marker). */
export function readDatasetVariant(dir: string): DatasetVariant {
  const path = join(dir, DATASET_MARKER);
  if (!existsSync(path)) return "lm-bff";
  let variant: unknown;
  try {
    variant = (JSON.parse(readFileSync(path, "utf8")) as { variant?: unknown }).variant;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!isDatasetVariant(variant))
    throw new Error(`${path}: "variant" must be one of ${DATASET_VARIANTS.join(", ")}, got ${JSON.stringify(variant)}`);
  return variant;
}

/** Record `variant` in `dir` (atomically). */
export async function writeDatasetVariant(dir: string, variant: DatasetVariant): Promise<void> {
  await writeFileAtomic(join(dir, DATASET_MARKER), `${JSON.stringify({ variant })}\n`);
}
