/**
 * Projected cache disk use of a sweep config's kernel jobs (README "Disk use"), from the formula in
 * src/kernels/disk.ts and MEASURED prompt lengths: each task's k-shot splits are made as the sweep makes them
 * (src/experiments/splits.ts `ensureSplit`: LM-BFF's sampler on the `original/` data, the config's mode, k and seeds,
 * then `limits.limitEval`) into a temporary folder and prompt-encoded with the task's template
 * (`loadPromptedSplits`, as a kernel job does), so every example's token count is the one its job would see.
 *
 * Data: `$ENTK_LMBFF_DIR/original` when ENTK_LMBFF_DIR is set, otherwise the bundled `datasets/original` (spam and
 * sotu only); the output says which, per task. A task whose `original/` folder lacks its train or test file (the
 * shared LM-BFF copy has no MNLI, SNLI, QQP originals, no QNLI and ag_news train) is measured on what there is:
 * mean lengths of its test file (original/, else LM-BFF's official 16-shot split `k-shot/<task>/16-13/`, whose test
 * file is the same) and of its train pool (that split's train and dev files; with neither, the test mean), at the
 * config's sizes (test capped at 1,000 in mode k-shot-1k-test, then at limitEval); the output marks those tasks.
 * Tokenizer: --tokenizer DIR, else the config's model folder when it is local, else $ENTK_ROBERTA_TOKENIZER_DIR,
 * else models/entk-mini (a byte-level BPE of roberta-base's kind, not its vocabulary). Model shape: the config's
 * model folder when local, else roberta-base's (hidden 768, intermediate 3072, 12 layers).
 *
 * Factors count each task's test set once per C (the same examples, hence cache keys, for every seed, k and
 * formula), train and dev once per (k, seed, C). Kernel blocks count every formula once per (k, seed) (its jobs, one
 * per solver, share them); every job's output folder (OUT/jobs/<key>/kernels) holds its float64 kernels again.
 *
 * Usage: [ENTK_LMBFF_DIR=DIR] [ENTK_ROBERTA_TOKENIZER_DIR=DIR] npx tsx scripts/disk-projection.ts CONFIG
 *        [--tokenizer DIR]. Last line: one JSON object.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readCsv, readGeneric, readTsv } from "../src/data/readers.ts";
import type { SplitMode } from "../src/experiments/config.ts";
import { ensureSplit, splitDirOf } from "../src/experiments/splits.ts";
import { formatBytes, predictExampleFactorBytes, predictKernelBlockBytes } from "../src/kernels/disk.ts";
import { readModelConfig } from "../src/model/weights/config.ts";
import type { ModelConfig } from "../src/model/weights/types.ts";
import { loadPromptedSplits } from "../src/pipelines/prompted-splits.ts";
import { taskEncoder } from "../src/prompts/encode.ts";
import { loadTask, type TaskDef } from "../src/prompts/task.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";

const ROBERTA_BASE = { hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, typeVocabSize: 1 } as ModelConfig;
const TEST_CAP = 1000; // mode k-shot-1k-test (src/data/kshot.ts)
/** Test-set sizes of tasks whose test text is not in the shared LM-BFF copy (GLUE QQP dev: 40,430 pairs). */
const TEST_SIZE_WITHOUT_DATA: Record<string, number> = { QQP: 40430 };

const args = process.argv.slice(2);
const tokFlag = args.indexOf("--tokenizer");
const tokenizerArg = tokFlag >= 0 ? args.splice(tokFlag, 2)[1] : undefined;
const configPath = args[0] ?? "scripts/table2-16shot.json";
const config = JSON.parse(readFileSync(configPath, "utf8"));
const mode: SplitMode = config.data?.mode ?? "k-shot";
const limitEval: number | undefined = config.limits?.limitEval;
const seeds: number[] = config.seeds;
const ks: number[] = config.k;

const lmbff = process.env.ENTK_LMBFF_DIR ? resolve(process.env.ENTK_LMBFF_DIR) : undefined;
const dataDir = lmbff ? join(lmbff, "original") : resolve("datasets/original");
const modelDir = resolve(config.model.id);
const localModel = existsSync(join(modelDir, "config.json"));
const tokDir =
  tokenizerArg ?? (localModel ? modelDir : (process.env.ENTK_ROBERTA_TOKENIZER_DIR ?? resolve("models/entk-mini")));
const tok = await loadTokenizer(tokDir);
const shape = localModel ? readModelConfig(modelDir) : ROBERTA_BASE;
if (!localModel && !/(^|\/)roberta-base$/.test(config.model.id))
  throw new Error(`${configPath}: model ${config.model.id} is neither a local folder nor roberta-base`);

/** A split as (count, mean tokens): the factor bytes are affine in T, so count·f(mean) is the exact sum. */
type Part = { n: number; meanT: number };
const part = (lengths: number[]): Part => ({
  n: lengths.length,
  meanT: lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length),
});
const lengthsOf = (task: TaskDef, splitDir: string, split: "train" | "dev" | "test", limit?: number) =>
  (loadPromptedSplits(task, splitDir, tok, { splits: [split], limitEval: limit }).splits[split] ?? []).map(
    (x) => x.inputIds.length,
  );

interface Measured {
  source: string;
  test: Part;
  /** train and dev per `${k}-${seed}` */
  trainDev: Map<string, { train: Part; dev: Part }>;
}

const scratch = mkdtempSync(join(tmpdir(), "entk-disk-projection-"));
/** Prompt lengths of every example of one data file (the task's layout and template). */
function fileLengths(task: TaskDef, path: string): number[] {
  const read = task.data.format === "tsv" ? readTsv : readCsv;
  const enc = taskEncoder(tok, task);
  return read(path, task.data, task.labels).examples.map((e) => enc.encode(e).inputIds.length);
}

async function measure(task: TaskDef): Promise<Measured> {
  const trainDev = new Map<string, { train: Part; dev: Part }>();
  const orig = join(dataDir, task.data.dir);
  const evalName = (f: string) => (task.data.format === "tsv" ? f.replaceAll("dev", "test") : f);
  const evalFile = task.data.original.eval.find((f) => evalName(f) === task.data.files.test);
  if (evalFile && existsSync(join(orig, task.data.original.train)) && existsSync(join(orig, evalFile))) {
    let test: Part | undefined;
    for (const k of ks)
      for (const seed of seeds) {
        // The split the sweep would use (generated here into the scratch folder), cut by limitEval as it would.
        const dir = await ensureSplit({ task, k, seed, data: { dir: dataDir, mode }, splitsRoot: scratch });
        trainDev.set(`${k}-${seed}`, {
          train: part(lengthsOf(task, dir, "train")),
          dev: part(lengthsOf(task, dir, "dev", limitEval)),
        });
        test ??= part(lengthsOf(task, dir, "test", limitEval));
      }
    return { source: `${orig}: the sweep's splits`, test: test!, trainDev };
  }
  // Partial data: mean lengths at the config's sizes. The test file: original/ (GLUE dev as test), LM-BFF's official
  // 16-shot split (whose test file is the same), or eval/<task>/dev.jsonl (MNLI matched, SNLI: the same examples);
  // the train pool: the official split's train and dev files.
  const official = lmbff && splitDirOf(lmbff, "k-shot", task.name, 16, 13);
  const has = (p: string | undefined): p is string => p !== undefined && existsSync(p);
  const testPath = [evalFile && join(orig, evalFile), official && join(official, task.data.files.test)].find(has);
  const jsonl = lmbff && join(lmbff, "eval", task.name, "dev.jsonl");
  const trainPath = official && join(official, task.data.files.train);
  const poolLengths = has(trainPath)
    ? [...fileLengths(task, trainPath), ...fileLengths(task, join(official as string, task.data.files.dev))]
    : undefined;
  let testAll: number[] | undefined;
  let testSource: string;
  if (testPath) {
    testAll = fileLengths(task, testPath);
    testSource = testPath;
  } else if (has(jsonl)) {
    const enc = taskEncoder(tok, task);
    const mapping = { format: "jsonl" as const, text: ["premise", "hypothesis"], label: "label" };
    testAll = readGeneric(jsonl, mapping, task.labels).examples.map((e) => enc.encode(e).inputIds.length);
    testSource = jsonl;
  } else testSource = "none";
  const nTestAll = testAll?.length ?? TEST_SIZE_WITHOUT_DATA[task.name];
  const meanTest = testAll ? part(testAll).meanT : poolLengths && part(poolLengths).meanT;
  if (nTestAll === undefined || meanTest === undefined)
    throw new Error(
      `${task.name}: no data in ${orig}${official ? ` nor ${official}` : " (bundled: spam, sotu; set ENTK_LMBFF_DIR)"}`,
    );
  const cap = mode === "k-shot-1k-test" ? TEST_CAP : Number.POSITIVE_INFINITY;
  const test = { n: Math.min(nTestAll, cap, limitEval ?? Number.POSITIVE_INFINITY), meanT: meanTest };
  const trainT = poolLengths ? part(poolLengths).meanT : meanTest;
  for (const k of ks)
    for (const seed of seeds) {
      const n = k * task.labels.length;
      trainDev.set(`${k}-${seed}`, {
        train: { n, meanT: trainT },
        dev: { n: Math.min(n, limitEval ?? n), meanT: trainT },
      });
    }
  const testWords = testAll
    ? `test ${testSource} (all ${testAll.length})`
    : `test: no text, ${nTestAll} examples (GLUE dev) as long as the train pool`;
  const trainWords = poolLengths ? `train pool ${official}` : "train: no text, as long as the test examples";
  return { source: `mean lengths; ${testWords}; ${trainWords}`, test, trainDev };
}

const factorBytes = (p: Part, C: number, nLabels: number) =>
  p.n * predictExampleFactorBytes(shape, p.meanT, C, nLabels);

let blockBytes = 0;
let outputTotal = 0;
let factorTotal = 0;
const rows: {
  task: string;
  source: string;
  test: Part;
  kernel_block_bytes: number;
  kernel_output_bytes: number;
  factor_bytes: number;
}[] = [];
try {
  for (const name of config.tasks as string[]) {
    const task = loadTask(name);
    const m = await measure(task);
    const nLabels = task.labels.length;
    let blocks = 0;
    let outputs = 0;
    let factors = 0;
    const factorSets = new Set<string>();
    for (const meth of config.methods as {
      kind: string;
      formula: string | string[];
      solver: string | string[];
      binary?: boolean;
      tasks?: string[];
    }[]) {
      if (meth.kind !== "kernel" || (meth.tasks && !meth.tasks.includes(name))) continue;
      if (meth.binary && nLabels !== 2) continue;
      const C = meth.binary ? 1 : nLabels;
      const formulas = Array.isArray(meth.formula) ? meth.formula : [meth.formula];
      if (!factorSets.has(`test-${C}`)) {
        factorSets.add(`test-${C}`);
        factors += factorBytes(m.test, C, nLabels);
      }
      for (const [kSeed, { train, dev }] of m.trainDev) {
        if (!factorSets.has(`${kSeed}-${C}`)) {
          factorSets.add(`${kSeed}-${C}`);
          factors += factorBytes(train, C, nLabels) + factorBytes(dev, C, nLabels);
        }
        for (const f of formulas) {
          const b = predictKernelBlockBytes(C, f === "asymmetric_signgd" ? 2 : 1, train.n, [train.n, dev.n, m.test.n]);
          blocks += b; // cached once: the jobs of one formula (one per solver) share their blocks
          outputs += b * (Array.isArray(meth.solver) ? meth.solver.length : 1); // each job writes its kernels
        }
      }
    }
    blockBytes += blocks;
    outputTotal += outputs;
    factorTotal += factors;
    rows.push({
      task: name,
      source: m.source,
      test: m.test,
      kernel_block_bytes: blocks,
      kernel_output_bytes: outputs,
      factor_bytes: factors,
    });
    console.log(
      `${name}: test ${m.test.n} examples, mean ${m.test.meanT.toFixed(1)} tokens; kernel blocks ${formatBytes(blocks)}, ` +
        `factors ${formatBytes(factors)} [${m.source}]`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`tokenizer: ${tokDir}; model shape: ${localModel ? modelDir : "roberta-base"}; data: ${dataDir}`);
console.log(
  `${config.name}: kernel blocks ${formatBytes(blockBytes)} in the cache, the jobs' kernel outputs ` +
    `${formatBytes(outputTotal)} in OUT/jobs; with factor caching + ${formatBytes(factorTotal)}`,
);
console.log(
  JSON.stringify({
    config: config.name,
    data: dataDir,
    tokenizer: tokDir,
    kernel_block_bytes: blockBytes,
    kernel_output_bytes: outputTotal,
    factor_bytes: factorTotal,
    tasks: rows,
  }),
);
