import { type Command, Option } from "commander";
import { pullModel } from "../../model/hub/pull.ts";
import { resolveCachedModel } from "../../model/hub/resolve.ts";
import { initModel } from "../../model/init/init.ts";
import { ARCHS, type Arch, PRESETS, type Preset } from "../../model/init/presets.ts";
import { loadModel } from "../../model/load.ts";
import type { LoadedCheckpoint } from "../../model/weights/checkpoint.ts";
import { loadTokenizer } from "../../tokenizer/load.ts";
import { hfOffline } from "../../util/hf-cache.ts";
import { intArg } from "../args.ts";

/** A JSON-friendly summary of loaded weights (`entk model info`). */
export function describeWeights(w: LoadedCheckpoint) {
  let params = 0;
  let inPlace = 0;
  for (const t of w.tensors.values()) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    params += n;
    if (t.external) inPlace += n;
  }
  return {
    source: w.source,
    config: w.config,
    files: w.files,
    hash: w.hash,
    tensors: w.tensors.size,
    parameters: params,
    parameters_in_place: inPlace,
    notes: w.notes,
  };
}

export function registerModel(program: Command): void {
  const model = program.command("model");

  model
    .command("pull")
    .description("download a model repo (config, safetensors weights, tokenizer files) into the Hugging Face cache")
    .argument("<repo-id>", 'Hub repo id, e.g. "FacebookAI/roberta-base"')
    .option("--revision <rev>", "branch, tag or commit", "main")
    .option("--offline", "no network: only check that the cache already holds it (also HF_HUB_OFFLINE=1)")
    .option("--quiet", "no progress bar")
    .action(async (repoId: string, opts: { revision: string; offline?: boolean; quiet?: boolean }) => {
      if (opts.offline || hfOffline()) {
        const r = resolveCachedModel(repoId, { revision: opts.revision });
        process.stderr.write(`${repoId}@${opts.revision}: in the cache at commit ${r.commit} (offline)\n`);
        process.stdout.write(`${r.dir}\n`);
        return;
      }
      const r = await pullModel(repoId, { revision: opts.revision, quiet: opts.quiet });
      process.stderr.write(
        `${repoId}@${opts.revision} → commit ${r.commit}: ${r.downloaded.length} file(s) downloaded, ` +
          `${r.files.length - r.downloaded.length} already cached\n`,
      );
      process.stdout.write(`${r.dir}\n`);
    });

  model
    .command("init")
    .description(
      "write a deterministic random RoBERTa/BERT MLM in the Hugging Face layout (with a synthetic tokenizer)",
    )
    .addOption(new Option("--arch <arch>", "architecture").choices(ARCHS).makeOptionMandatory())
    .addOption(new Option("--preset <preset>", "size").choices(PRESETS).makeOptionMandatory())
    .requiredOption("--seed <n>", "random seed (an integer >= 0)", intArg(0))
    .requiredOption("--out <dir>", "output directory")
    .option("--force", "replace model files already in --out")
    .action(async (opts: { arch: Arch; preset: Preset; seed: number; out: string; force?: boolean }) => {
      const r = await initModel(opts);
      const c = r.config;
      process.stderr.write(
        `${opts.arch} ${opts.preset} (seed ${opts.seed}): vocab ${c.vocabSize}, hidden ${c.hiddenSize}, ` +
          `${c.numHiddenLayers} layers, ${c.numAttentionHeads} heads, FFN ${c.intermediateSize}\n`,
      );
      process.stdout.write(`${r.dir}\n`);
    });

  model
    .command("info")
    .description("validate a model (directory or Hub repo id) and print its config, files, parameter count and hash")
    .argument("<model>", "model directory or Hub repo id")
    .option("--revision <rev>", "branch, tag or commit (repo ids only)")
    .option("--offline", "resolve repo ids from the cache only (also HF_HUB_OFFLINE=1)")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { revision?: string; offline?: boolean; json?: boolean }) => {
      const w = await loadModel(id, { revision: opts.revision, offline: opts.offline || undefined });
      const tokenizer = await checkTokenizer(w.source.dir, w.config.vocabSize);
      const d = { ...describeWeights(w), tokenizer };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
        return;
      }
      const c = d.config;
      const lines = [
        `model       ${d.source.repoId ? `${d.source.repoId}@${d.source.revision} (${d.source.dir})` : d.source.dir}`,
        `arch        ${c.modelType}: vocab ${c.vocabSize}, hidden ${c.hiddenSize}, ${c.numHiddenLayers} layers, ` +
          `${c.numAttentionHeads} heads, FFN ${c.intermediateSize}, ${c.maxPositionEmbeddings} positions`,
        `files       ${d.files.join(", ")}`,
        `parameters  ${d.parameters.toLocaleString("en-US")} in ${d.tensors} tensors ` +
          `(${d.parameters_in_place.toLocaleString("en-US")} referenced in place)`,
        `tokenizer   ${d.tokenizer}`,
        `hash        ${d.hash}`,
        ...d.notes.map((n) => `note        ${n}`),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  for (const cmd of model.commands) cmd.exitOverride();
  model.exitOverride();
}

/** A model's tokenizer must load, tokenize, and stay inside the model's vocabulary (else `model info` fails). */
async function checkTokenizer(dir: string, vocabSize: number): Promise<string> {
  let tok: Awaited<ReturnType<typeof loadTokenizer>>;
  try {
    tok = await loadTokenizer(dir);
    tok.tokenize(" a test sentence");
  } catch (err) {
    throw new Error(`${dir}: the tokenizer is not usable: ${(err as Error).message}`);
  }
  if (tok.vocabSize > vocabSize || tok.maskId >= vocabSize)
    throw new Error(
      `${dir}: the tokenizer has ${tok.vocabSize} tokens (mask id ${tok.maskId}) but config.json's vocab_size is ${vocabSize}`,
    );
  return `${tok.vocabSize} tokens, mask id ${tok.maskId}`;
}
