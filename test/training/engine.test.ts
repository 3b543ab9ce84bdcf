/** The training layer on the real engine (src/model) with a tiny on-disk RoBERTa and a made-up k-shot split. */
import { mkdtempSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initModel } from "../../src/model/init/init.ts";
import { densifyRows } from "../../src/model/prompt-model.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import type { LoadedWeights } from "../../src/model/weights/types.ts";
import { runFinetune } from "../../src/pipelines/finetune.ts";
import { type FinetuneData, loadFinetuneData } from "../../src/pipelines/prompted-splits.ts";
import { loadTask } from "../../src/prompts/task.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { loadTokenizer } from "../../src/tokenizer/load.ts";
import { engineModelFactory } from "../../src/training/engine-model.ts";
import { Rng } from "../../src/training/rng.ts";
import { EpochSampler } from "../../src/training/sampler.ts";
import { finetune } from "../../src/training/trainer.ts";
import type { FinetuneModel } from "../../src/training/types.ts";
import { writePairSplit } from "../helpers/synthetic-data.ts";
import { npyCheckpointIO } from "./toy-model.ts";

/** A made-up k-shot split in QNLI's layout: 16 examples per label in train and dev, 40 in test. */
const SPLIT = writePairSplit(mkdtempSync(join(tmpdir(), "entk-qnli-")), { labels: ["entailment", "not_entailment"] });
const factory = engineModelFactory({ threads: 1 });
let root: string;
let modelDir: string;
let weights: LoadedWeights;
let data: FinetuneData;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "entk-ft-engine-"));
  modelDir = join(root, "model");
  await mkdir(modelDir);
  await initModel({ arch: "roberta", preset: "tiny", seed: 7, out: modelDir, writeTokenizer: writeTokenizerFiles });
  weights = await loadWeightsFromDir(modelDir);
  data = loadFinetuneData(loadTask("QNLI"), SPLIT, await loadTokenizer(modelDir), { limitTest: 8 });
});

const common = { splitDir: SPLIT, task: "QNLI", createModel: factory, limitTest: 8, quiet: true } as const;

describe("fine-tuning on the engine", () => {
  it("one SGD step equals θ − lr·clip(∇L) with the engine's gradients for the batch and dropout seed drawn", async () => {
    const model = await factory(weights, data.labelWordIds);
    const ref = await factory(weights, data.labelWordIds);
    const p0 = new Map([...model.params].map(([k, a]) => [k, a.slice()]));
    const batch = new EpochSampler(data.train.length, 4, 11).next().indices.map((i) => data.train[i]);
    const dropoutSeed = new Rng(11, 2).nextU32();
    const { grads, sparse } = await ref.lossAndGrad(
      batch.map((e) => e.input),
      batch.map((e) => e.label),
      { dropoutSeed },
    );
    // The word embeddings and the decoder come as touched rows; the update must equal the dense one.
    expect([...(sparse?.keys() ?? [])].sort()).toEqual([
      "lm_head.decoder.weight",
      "roberta.embeddings.word_embeddings.weight",
    ]);
    for (const [name, s] of sparse ?? []) grads.set(name, densifyRows(s, model.params.get(name)!.length / s.width));
    expect(grads.size).toBe(model.params.size);
    let sq = 0;
    for (const g of grads.values()) for (const v of g) sq += v * v;
    const maxGradNorm = Math.sqrt(sq) / 3;
    const coef = maxGradNorm / (Math.sqrt(sq) + 1e-6);
    const lr = 0.01;
    await finetune({
      ...{ model, train: data.train, dev: data.dev, optimizer: "sgd", lr, batchSize: 4, steps: 1, maxGradNorm },
      ...{ seed: 11, metric: "acc", outDir: join(root, "sgd1"), checkpointIO: npyCheckpointIO, quiet: true },
    });
    let changed = 0;
    for (const [name, before] of p0) {
      const g = grads.get(name)!;
      const got = model.params.get(name)!;
      for (let i = 0; i < before.length; i++) {
        const want = before[i] - lr * coef * g[i];
        expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(1e-7 * (1 + Math.abs(want)));
        if (got[i] !== before[i]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(1000);
  });

  it("AdamW lowers the training loss; the best checkpoint reloads to identical logits", async () => {
    let trained: FinetuneModel | undefined;
    const out = join(root, "adam");
    const r = await runFinetune({
      ...common,
      model: modelDir,
      createModel: (w, ids) => (trained = factory(w, ids) as FinetuneModel),
      ...{ optimizer: "adam", lr: 1e-2, batchSize: 8, steps: 48, evalEvery: 16, seed: 1, outDir: out },
    });
    const losses = readFileSync(r.curvePath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).loss as number);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-8))).toBeLessThan(0.5 * mean(losses.slice(0, 8)));
    const reloaded = await factory(await loadWeightsFromDir(join(out, "best")), data.labelWordIds);
    const inputs = data.dev.map((e) => e.input);
    const z = await reloaded.logits(inputs);
    expect(z).toEqual(await trained!.logits(inputs));
    const z0 = await (await factory(weights, data.labelWordIds)).logits(inputs);
    expect(z).not.toEqual(z0);
  });

  it("an interrupted run resumes to the identical result, curve and checkpoint", async () => {
    const opts = { optimizer: "adam" as const, lr: 1e-3, batchSize: 8, steps: 10, evalEvery: 4, seed: 3 };
    const a = join(root, "resume-a");
    const ra = await runFinetune({ ...common, model: modelDir, ...opts, outDir: a });
    const b = join(root, "resume-b");
    const stop = (s: number) => {
      if (s === 6) throw new Error("interrupted");
    };
    await expect(runFinetune({ ...common, model: modelDir, ...opts, outDir: b, onStep: stop })).rejects.toThrow(
      "interrupted",
    );
    const rb = await runFinetune({ ...common, model: modelDir, ...opts, outDir: b });
    const strip = ({ checkpointDir, curvePath, ...rest }: typeof ra) => rest;
    expect(strip(rb)).toEqual(strip(ra));
    const read = (d: string, f: string) => readFileSync(join(d, f));
    expect(read(b, "curve.jsonl").toString()).toBe(read(a, "curve.jsonl").toString());
    expect(read(b, "best/model.safetensors").equals(read(a, "best/model.safetensors"))).toBe(true);
  });
});
