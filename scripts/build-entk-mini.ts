/**
 * Packages a finished (or stopped) `entk pretrain` run as models/entk-mini and writes its model card:
 *
 *   npx tsx scripts/build-entk-mini.ts [--previous PACKAGED_DIR] --run RUN_DIR[,RUN_DIR2,…] --corpus CORPUS_DIR[,…]
 *     [--out models/entk-mini] [--seeded SEEDED/glove-seed.json]
 *   npx tsx scripts/build-entk-mini.ts --previous models/entk-mini --corpus CORPUS_DIR   # regenerate the card
 *
 * Several run directories are the stages of one pretraining, in order, each started from the previous one's weights
 * (`entk pretrain --model`, fresh optimizer state), or from them with sinusoidal positions when its start directory
 * was written by scripts/sinusoidal-positions.ts (its safetensors metadata says so). The card lists every stage.
 * `--corpus` names the corpus (scripts/build-corpus.ts) each stage read, one per stage, or one for all; an earlier
 * stage's corpus must use a subset of the last one's sources, and the card describes the last one.
 *
 * - config.json (RobertaForMaskedLM) and model.safetensors in float16 (untied lm_head.decoder.weight; loading
 *   converts to float32), from the last RUN_DIR/model; the tokenizer files must already be in OUT
 *   (scripts/build-tokenizer.ts; refused otherwise) and stay;
 * - the held-out MLM loss / top-1 of the SHIPPED (float16) weights on every held-out window of the last corpus's
 *   heldout.txt;
 * - zero-shot prompt accuracy on the bundled tasks (datasets/), and with ENTK_LMBFF_DIR on LM-BFF's SST-2, MR, CR,
 *   SUBJ, TREC, MPQA test sets and GLUE-SST-2 dev;
 * - probe logits (the label-word logits of fixed prompts) that test/model/entk-mini.test.ts checks to 1e-5;
 * - curve-loss.svg, curve-top1.svg and README.md (corpus manifest, tokens seen, hyperparameters, results).
 * - pretraining.json (scripts/lib/mini-record.ts): the stages' facts and curves and the corpora's manifests.
 * With `--seeded SEEDED/glove-seed.json` (the run started from scripts/seed-embeddings.ts's output) the card says so.
 * `--previous DIR` (a model this script packaged) puts DIR's recorded stages before the runs', so a stage trained
 * from DIR is packaged without the earlier run folders; without `--run`, DIR's own weights are repackaged and its
 * card regenerated (`--corpus` then names the last stage's corpus, needed for the held-out evaluation).
 * Last line: one JSON object with the numbers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../src/model/load.ts";
import { createMlmModel } from "../src/model/mlm-model.ts";
import { loadWeightsFromDir } from "../src/model/weights/checkpoint.ts";
import { modelConfigToJson } from "../src/model/weights/config.ts";
import { readSafetensorsHeader, writeSafetensors } from "../src/model/weights/safetensors.ts";
import { type Probe, probeLogits } from "../src/pipelines/probe-logits.ts";
import { type ZeroShotResult, zeroShot } from "../src/pipelines/zero-shot.ts";
import { loadTask } from "../src/prompts/task.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { tensorValues } from "../src/training/hf-checkpoint.ts";
import { PackedWindows, tokenStream } from "../src/training/pretrain/corpus.ts";
import { evaluateMlm, heldoutBatches, maskingFor, readCurve } from "../src/training/pretrain/pretrain.ts";
import { tokenizerHash } from "../src/training/pretrain/setup.ts";
import { openSnapshot } from "../src/training/snapshot.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { scatterPlot } from "../src/util/plots.ts";
import { card, corpusInfos } from "./lib/mini-card.ts";
import {
  type CorpusManifest,
  corpusKey,
  type GloveSeed,
  type PretrainingRecord,
  type RecordedPoint,
  readRecord,
  type StageFacts,
  type StageRecord,
  writeRecord,
} from "./lib/mini-record.ts";

/** The command line, checked: every user error is thrown here with the flag it concerns. */
function parseArgs() {
  const arg = (name: string, def?: string) => {
    const i = process.argv.indexOf(name);
    if (i > 0) return process.argv[i + 1];
    if (def === undefined) throw new Error(`missing ${name}`);
    return def;
  };
  const previousDir = arg("--previous", "");
  const previous: PretrainingRecord | undefined = previousDir ? readRecord(previousDir) : undefined;
  const runDirs = arg("--run", "")
    .split(",")
    .filter((d) => d !== "");
  if (!previous && runDirs.length === 0) throw new Error("give --run RUN_DIR[,…], --previous DIR, or both");
  const corpusArg = arg("--corpus").split(",");
  const corpusCount = Math.max(1, runDirs.length);
  if (corpusArg.length !== 1 && corpusArg.length !== corpusCount)
    throw new Error(`--corpus: ${corpusArg.length} folders for ${runDirs.length} runs (expected one, or one per run)`);
  /** The corpus folders given, by `corpusKey`, and the folder of each new run (each manifest read once). */
  const corpusDirs = new Map<string, string>();
  const manifests = new Map<string, CorpusManifest>(previous?.corpora.map((m) => [corpusKey(m), m]));
  const givenCorpora = Array.from({ length: corpusCount }, (_, i) => {
    const dir = corpusArg[corpusArg.length === 1 ? 0 : i];
    if (!existsSync(join(dir, "manifest.json")))
      throw new Error(`--corpus ${dir}: no manifest.json (expected a folder written by scripts/build-corpus.ts)`);
    const manifest: CorpusManifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    const key = corpusKey(manifest);
    corpusDirs.set(key, dir);
    if (!manifests.has(key)) manifests.set(key, manifest);
    return { dir, manifest, key };
  });
  const runCorpora = givenCorpora.map((c) => c.key);
  if (previous && runDirs.length === 0) {
    // Regeneration evaluates on this folder's heldout.txt: it must be the corpus the last stage read.
    const recorded = manifests.get(previous.stages[previous.stages.length - 1].corpus) as CorpusManifest;
    const given = givenCorpora[0];
    if (JSON.stringify(given.manifest.totals) !== JSON.stringify(recorded.totals))
      throw new Error(
        `--corpus ${given.dir}: not the corpus the last stage of ${previousDir} read (its totals differ)`,
      );
  }
  const out = arg("--out", "models/entk-mini");
  /** The `glove-seed.json` of scripts/seed-embeddings.ts when the run started from GloVe-seeded embeddings. */
  const seededPath = arg("--seeded", "");
  if (previous && seededPath)
    throw new Error(`--seeded: the first stage is ${previousDir}'s, whose record says how it started`);
  const seeded: GloveSeed | undefined = previous
    ? (previous.seeded ?? undefined)
    : seededPath
      ? JSON.parse(readFileSync(seededPath, "utf8"))
      : undefined;
  const lmbff = process.env.ENTK_LMBFF_DIR;
  if (!existsSync(join(out, "tokenizer.json")))
    throw new Error(
      `--out ${out}: no tokenizer.json; write it first (npx tsx scripts/build-tokenizer.ts --out ${out})`,
    );
  return { previousDir, previous, runDirs, corpusDirs, manifests, runCorpora, out, seeded, lmbff };
}

/** Fixed prompts whose logits the card states (sentences written for this card, not from any dataset). */
const PROBES: Probe[] = [
  { task: "GLUE-SST-2", texts: ["a warm, funny and beautifully acted film"] },
  { task: "GLUE-SST-2", texts: ["a dull, tedious and badly written mess"] },
  { task: "mpqa", texts: ["the government welcomed the agreement"] },
  { task: "trec", texts: ["Who was the first president of the United States ?"] },
  { task: "RTE", texts: ["The committee met on Monday and approved the budget.", "The budget was approved."] },
];

/** Held-out windows and masking as in the run (sequence length from its hyperparameters, seed 0). */
const EVAL_SEED = 0;

async function runFacts(runDir: string): Promise<StageFacts> {
  const snap = await openSnapshot(join(runDir, "state.snap"));
  const meta = snap.meta as { step: number; tokens: number; elapsedS: number; fingerprint: string };
  const fp = JSON.parse(meta.fingerprint) as { hp: Record<string, unknown> };
  // result.json is written when a run finishes; a stopped run has none.
  const resultPath = join(runDir, "result.json");
  const result = existsSync(resultPath) ? JSON.parse(readFileSync(resultPath, "utf8")) : undefined;
  const finished = result?.steps === fp.hp.steps;
  let sinusoidalNorm: number | undefined;
  let stacked: { order: number[]; layers: number } | undefined;
  let packagedStart = false;
  const start = result?.provenance?.start?.dir as string | undefined;
  if (start) {
    const st = join(start, "model.safetensors");
    if (!existsSync(st))
      throw new Error(`${runDir}: its start model ${st} is gone; the card could not say how it was made`);
    const meta = readSafetensorsHeader(st).metadata;
    if (meta.entk_positions) sinusoidalNorm = JSON.parse(meta.entk_positions).norm;
    else if (meta.entk_stacked) stacked = JSON.parse(meta.entk_stacked);
    else packagedStart = meta.entk_pretrain !== undefined;
  }
  const cfg = JSON.parse(readFileSync(join(runDir, "model", "config.json"), "utf8"));
  return {
    step: meta.step,
    tokens: meta.tokens,
    elapsedS: meta.elapsedS,
    finished,
    hp: fp.hp,
    dropout: cfg.hidden_dropout_prob,
    sinusoidalNorm,
    stacked,
    packagedStart,
  };
}

/** A run folder's stage: its facts, the corpus it read and its curve (the fields the card plots). */
async function runStage(runDir: string, corpus: string): Promise<StageRecord> {
  const curve = readCurve(join(runDir, "curve.jsonl")).map((p) => ({
    step: p.step,
    tokens: p.tokens,
    trainLoss: p.trainLoss,
    heldoutLoss: p.heldoutLoss,
    heldoutTop1: p.heldoutTop1,
  }));
  return { ...(await runFacts(runDir)), corpus, curve };
}

/** Writes the float16 weights from `modelDir` (a run's model, or a packaged one) with the stages in the metadata. */
async function writeWeights(stages: StageFacts[], modelDir: string, out: string): Promise<void> {
  const w = await loadWeightsFromDir(modelDir);
  const cfg = { ...modelConfigToJson(w.config), torch_dtype: "float16" };
  // Every value is read before the file is replaced (modelDir may be `out`).
  const tensors = [...w.tensors].map(([name, ref]) => ({
    name,
    shape: ref.shape,
    data: tensorValues(ref),
    dtype: "F16" as const,
  }));
  await writeFileAtomic(join(out, "config.json"), `${JSON.stringify(cfg, null, 2)}\n`);
  await writeSafetensors(join(out, "model.safetensors"), tensors, {
    format: "pt",
    entk_pretrain: JSON.stringify(stages.map((f) => ({ step: f.step, tokens: f.tokens, dropout: f.dropout, ...f.hp }))),
  });
}

async function main() {
  const { previousDir, previous, runDirs, corpusDirs, manifests, runCorpora, out, seeded, lmbff } = parseArgs();
  const stages: StageRecord[] = [...(previous?.stages ?? [])];
  for (const [i, dir] of runDirs.entries()) stages.push(await runStage(dir, runCorpora[i]));
  // The card states these once: every stage must share them.
  for (const k of ["weightDecay", "betas", "eps", "maxGradNorm", "maskRate"])
    if (new Set(stages.map((f) => JSON.stringify(f.hp[k]))).size > 1) throw new Error(`the stages differ in ${k}`);
  const facts = stages[stages.length - 1];
  await writeWeights(stages, runDirs.length ? join(runDirs[runDirs.length - 1], "model") : previousDir, out);
  const weights = await loadModel(out);
  const tok = await loadTokenizer(out);
  const seqLen = facts.hp.seqLen as number;

  // Held-out MLM on the shipped weights.
  const tmp = mkdtempSync(join(tmpdir(), "entk-mini-card-"));
  let heldout: { loss: number; top1: number; count: number };
  try {
    const heldoutText = join(corpusDirs.get(facts.corpus) as string, "heldout.txt");
    const s = await tokenStream([heldoutText], tok, tokenizerHash(out), join(tmp, "heldout"));
    const held = new PackedWindows(s.ids, seqLen, tok.clsId, tok.sepId);
    const batches = heldoutBatches(held, maskingFor(tok, facts.hp.maskRate as number), held.count, 16, EVAL_SEED);
    heldout = await evaluateMlm(createMlmModel(weights, {}), batches);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // Zero-shot prompt accuracy.
  const zs: (ZeroShotResult & { where: string })[] = [];
  const score = async (taskName: string, dir: string, split: "dev" | "test", where: string) => {
    const task = loadTask(taskName);
    const r = await zeroShot(weights, tok, task, dir, split, {
      skipBadRows: true,
      onSkip: (m) => process.stderr.write(`skipped: ${m}\n`),
    });
    zs.push({ ...r, where });
  };
  for (const t of ["spam", "sotu"]) await score(t, join("datasets/original", t), "test", "bundled");
  // LM-BFF: the test set of the seed-13 16-shot split (every split holds the full test set; SST-2's is GLUE-SST-2's
  // dev set, 872 sentences, in the kernel paper's layout).
  if (lmbff)
    for (const t of ["SST-2", "mr", "cr", "subj", "trec", "mpqa"])
      await score(t, join(lmbff, "k-shot", loadTask(t).data.dir, "16-13"), "test", "LM-BFF k-shot/16-13");
  const probes = await probeLogits(weights, tok, PROBES);

  // Curves.
  let before = 0;
  const curves = stages.map((f) => {
    const c = { stage: f, offset: before, points: f.curve };
    before += f.tokens;
    return c;
  });
  const several = stages.length > 1;
  const series = (label: string, f: (p: RecordedPoint) => number | null) =>
    curves.map((c, i) => ({
      label: several ? `${label}, stage ${i + 1} (${c.stage.hp.seqLen}-token windows)` : label,
      points: c.points
        .map((p) => ({ x: (c.offset + p.tokens) / 1e6, y: f(p) as number }))
        .filter((p) => Number.isFinite(p.y)),
    }));
  writeFileSync(
    join(out, "curve-loss.svg"),
    scatterPlot({
      title: "entk-mini: MLM loss",
      xLabel: "tokens seen (millions)",
      yLabel: "cross-entropy (nats)",
      connect: true,
      series: [...series("held-out", (p) => p.heldoutLoss), ...series("train (mean since last)", (p) => p.trainLoss)],
    }),
  );
  writeFileSync(
    join(out, "curve-top1.svg"),
    scatterPlot({
      title: "entk-mini: held-out MLM top-1 accuracy",
      xLabel: "tokens seen (millions)",
      yLabel: "top-1 (%)",
      connect: true,
      series: series("held-out top-1", (p) => (p.heldoutTop1 === null ? null : 100 * p.heldoutTop1)),
    }),
  );

  // The corpora in order of first use.
  const used = [...new Set(stages.map((f) => f.corpus))].map((k) => manifests.get(k) as CorpusManifest);
  const corpora = corpusInfos(used);
  const readme = card({ stages, seeded, evalSeed: EVAL_SEED, weights, heldout, zs, probes, corpora });
  writeFileSync(join(out, "README.md"), readme);
  await writeRecord(out, { seeded: seeded ?? null, corpora: used, stages });
  const result = {
    stages: stages.map((f) => ({ step: f.step, tokens: f.tokens, finished: f.finished })),
    heldout,
    zeroShot: zs.map((r) => ({
      task: r.task,
      split: r.split,
      where: r.where,
      n: r.n,
      acc: r.acc,
      top: r.topClassShare,
      ...(r.marginAuc !== undefined && { marginAuc: r.marginAuc }),
    })),
    bytes: statSync(join(out, "model.safetensors")).size,
  };
  console.log(JSON.stringify(result));
}

main().catch((e: unknown) => {
  console.error(`build-entk-mini: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
