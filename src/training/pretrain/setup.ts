/**
 * What `entk pretrain` does before the loop: the start model (a model directory to continue from, or a fresh random
 * one of a given shape with a given tokenizer, written once into OUT/init), the tokenizer, and the cached token
 * streams of the training and held-out text.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { initModel, type ShapeKey } from "../../model/init/init.ts";
import { loadModel } from "../../model/load.ts";
import type { LoadedCheckpoint } from "../../model/weights/checkpoint.ts";
import type { ModelConfig } from "../../model/weights/types.ts";
import { loadTokenizer, TOKENIZER_FILES } from "../../tokenizer/load.ts";
import type { EntkTokenizer } from "../../tokenizer/types.ts";
import { OptionError } from "../../util/errors.ts";
import { progressBar } from "../../util/progress.ts";
import { tokenStream } from "./corpus.ts";

export type InitShape = Partial<Pick<ModelConfig, ShapeKey>>;

/** `hidden=128,layers=4,heads=4,intermediate=512,positions=514` → an init shape (names as in the flag). */
export function parseInitShape(spec: string): InitShape {
  const keys: Record<string, ShapeKey> = {
    hidden: "hiddenSize",
    layers: "numHiddenLayers",
    heads: "numAttentionHeads",
    intermediate: "intermediateSize",
    positions: "maxPositionEmbeddings",
  };
  const out: InitShape = {};
  for (const part of spec.split(",")) {
    const [k, v] = part.split("=").map((s) => s.trim());
    const n = Number(v);
    if (!keys[k] || !Number.isInteger(n) || n < 1)
      throw new OptionError(
        "init",
        `expected ${Object.keys(keys).join("|")}=<integer ≥ 1>, comma-separated; got "${part}"`,
      );
    out[keys[k]] = n;
  }
  return out;
}

/** sha256 over the tokenizer files a directory has (the key of token caches). */
export function tokenizerHash(dir: string): string {
  const h = createHash("sha256");
  for (const f of TOKENIZER_FILES) if (existsSync(join(dir, f))) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex");
}

export interface PretrainStart {
  weights: LoadedCheckpoint;
  tokenizer: EntkTokenizer;
  tokenizerDir: string;
}

/**
 * The start model: `model` (a directory or repo id; continue pretraining it), or with `init` a random RoBERTa of
 * that shape (HF init, σ = 0.02) with the tokenizer of `tokenizerDir`, written into OUT/init on first use.
 */
export async function pretrainStart(o: {
  model?: string;
  init?: InitShape;
  tokenizerDir?: string;
  seed: number;
  out: string;
}): Promise<PretrainStart> {
  if ((o.model === undefined) === (o.init === undefined))
    throw new OptionError("init", (n) => `pretrain: give either ${n("model")} or ${n("init")}`);
  let dir = o.model;
  if (o.init) {
    if (!o.tokenizerDir)
      throw new OptionError(
        "tokenizerDir",
        (n) => `pretrain: ${n("init")} needs ${n("tokenizerDir")} DIR (the new model's tokenizer)`,
      );
    dir = join(o.out, "init");
    if (!existsSync(join(dir, "model.safetensors"))) {
      const tdir = o.tokenizerDir;
      await initModel({
        arch: "roberta",
        preset: "small",
        seed: o.seed,
        out: dir,
        shape: o.init,
        force: true,
        writeTokenizer: async (d) => {
          mkdirSync(d, { recursive: true });
          for (const f of TOKENIZER_FILES) if (existsSync(join(tdir, f))) copyFileSync(join(tdir, f), join(d, f));
        },
      });
    }
  }
  const weights = await loadModel(dir!);
  const tokenizerDir = weights.source.dir;
  const tokenizer = await loadTokenizer(tokenizerDir);
  return { weights, tokenizer, tokenizerDir };
}

/** Token streams of the training and held-out files, cached in OUT/cache. */
export async function pretrainCorpus(
  start: PretrainStart,
  files: { train: string[]; heldout: string[] },
  out: string,
  quiet?: boolean,
) {
  const th = tokenizerHash(start.tokenizerDir);
  const stream = async (name: "train" | "heldout") => {
    let bar: ReturnType<typeof progressBar> | undefined;
    let last = 0;
    const s = await tokenStream(files[name], start.tokenizer, th, join(out, "cache", name), (done, total) => {
      bar ??= progressBar(`tokenize ${name}`, total, { quiet, unit: "B" });
      bar.tick(done - last);
      last = done;
    });
    bar?.stop();
    return s;
  };
  return { train: await stream("train"), heldout: await stream("heldout") };
}
