import type { Command } from "commander";
import { applyTaskVectors, readTaskVector, TaskVectorError, writeTaskVector } from "../../analyses/task-vectors.ts";
import { loadModel } from "../../model/load.ts";
import { listArg, numberArg, usageError } from "../args.ts";

const alphaList = listArg(numberArg(), "numbers (e.g. 1,-0.5)");
const pathList = listArg((s: string) => s, "paths");

/** Task-vector errors are the user's (wrong base, wrong file): usage errors, no stack trace. */
async function asUsage<T>(cmd: Command, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof TaskVectorError) usageError(cmd, err.message);
    throw err;
  }
}

export function registerTaskVector(program: Command): void {
  const tv = program
    .command("task-vector")
    .description(
      "task vectors (docs/analyses.md §1): `create` (the default) writes τ = θ_ft − θ₀; `apply` edits the base",
    );
  tv.command("create", { isDefault: true })
    .description("write τ = θ_ft − θ₀ as safetensors, with the base model's weights hash in its metadata")
    .requiredOption("--base <model>", "base model θ₀ (directory or Hub repo id)")
    .requiredOption("--finetuned <dir>", "fine-tuned checkpoint θ_ft (e.g. FT_DIR/best)")
    .requiredOption("--out <file>", "task vector file to write (.safetensors)")
    .action(async (o: { base: string; finetuned: string; out: string }, cmd: Command) => {
      await asUsage(cmd, async () => {
        const base = await loadModel(o.base);
        const ft = await loadModel(o.finetuned);
        const r = await writeTaskVector(base, ft, o.out);
        process.stdout.write(`task vector: ${r.params} parameters, ‖τ‖ = ${r.norm.toPrecision(6)} → ${r.path}\n`);
      });
    });
  tv.command("apply")
    .description("write θ₀ + Σ αᵢτᵢ as a Hugging Face model directory (α < 0 negates a task)")
    .requiredOption("--base <model>", "base model θ₀ the vectors were taken against")
    .requiredOption("--vectors <list>", "comma-separated task vector files", pathList)
    .requiredOption("--alpha <list>", "one coefficient per vector, comma-separated", alphaList)
    .requiredOption("--out <dir>", "model directory to write")
    .action(async (o: { base: string; vectors: string[]; alpha: number[]; out: string }, cmd: Command) => {
      if (o.vectors.length !== o.alpha.length)
        usageError(cmd, `--vectors has ${o.vectors.length} files but --alpha ${o.alpha.length} values`);
      await asUsage(cmd, async () => {
        const base = await loadModel(o.base);
        const vectors = o.vectors.map(readTaskVector);
        await applyTaskVectors(base, vectors, o.alpha, o.out);
        process.stdout.write(`θ₀ + ${o.alpha.map((a, i) => `${a}·τ${i + 1}`).join(" + ")} → ${o.out}\n`);
      });
    });
}
