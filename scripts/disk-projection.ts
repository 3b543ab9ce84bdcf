/**
 * Projected cache disk use of a sweep config's kernel jobs (README "Disk use"), from the formula in
 * src/kernels/disk.ts with roberta-base's shape. Test-set sizes and mean prompt lengths are ASSUMPTIONS stated below
 * (LM-BFF test sizes, capped at 1,000 in mode k-shot-1k-test; lengths rounded guesses in roberta tokens, template included), not measurements.
 * Usage: npx tsx scripts/disk-projection.ts scripts/table2-16shot.json. Last line: one JSON object.
 */
import { readFileSync } from "node:fs";
import { formatBytes, predictFactorBytes, predictKernelBlockBytes } from "../src/kernels/disk.ts";
import type { ModelConfig } from "../src/model/weights/types.ts";
import { loadTask } from "../src/prompts/task.ts";

const ROBERTA_BASE = { hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, typeVocabSize: 1 } as ModelConfig;
/** [test examples, mean prompt tokens]: assumed. */
const TASKS: Record<string, [number, number]> = {
  "GLUE-SST-2": [872, 30],
  "sst-5": [2210, 32],
  mr: [2000, 30],
  cr: [2000, 28],
  mpqa: [2000, 10],
  subj: [2000, 35],
  trec: [500, 18],
  ag_news: [7600, 55],
  MNLI: [9815, 45],
  SNLI: [9842, 32],
  QNLI: [5463, 55],
  RTE: [277, 75],
  MRPC: [408, 55],
  QQP: [40431, 35],
};

const config = JSON.parse(readFileSync(process.argv[2] ?? "scripts/table2-16shot.json", "utf8"));
const seeds: number = config.seeds.length;
let withFactors = 0;
let blocksOnly = 0;
for (const task of config.tasks as string[]) {
  const [fullTest, T] = TASKS[task] ?? [1000, 40];
  // k-shot-1k-test: the test set capped at 1,000 (one seed-42 draw, the same for every seed).
  const nTest = config.data.mode === "k-shot-1k-test" ? Math.min(fullTest, 1000) : fullTest;
  const nLabels = loadTask(task).labels.length;
  for (const k of config.k as number[]) {
    const n = k * nLabels;
    // Jobs of this task: per method entry that covers it, its formulas (each a job) and C (binary → 1).
    for (const m of config.methods as {
      kind: string;
      formula: string | string[];
      binary?: boolean;
      tasks?: string[];
    }[]) {
      if (m.kind !== "kernel" || (m.tasks && !m.tasks.includes(task))) continue;
      const C = m.binary ? 1 : nLabels;
      const formulas = Array.isArray(m.formula) ? m.formula : [m.formula];
      const ex = (count: number) => predictFactorBytes(ROBERTA_BASE, Array(count).fill(T), C, nLabels);
      // Factors: the test set once (same keys for every seed and formula), train + dev per seed.
      withFactors += ex(nTest) + seeds * ex(2 * n);
      for (const f of formulas) {
        const pairs = f === "asymmetric_signgd" ? 2 : 1;
        blocksOnly += seeds * predictKernelBlockBytes(C, pairs, n, [n, n, nTest]);
      }
    }
  }
}
console.log(
  `${config.name}: kernel blocks ${formatBytes(blocksOnly)}; with --cache-factors + ${formatBytes(withFactors)}`,
);
console.log(JSON.stringify({ config: config.name, kernel_block_bytes: blocksOnly, factor_bytes: withFactors }));
