import type { Command } from "commander";
import { mergeLoraCheckpoint } from "../../training/variant-checkpoint.ts";

export function registerLora(program: Command): void {
  const lora = program
    .command("lora")
    .description("adapter checkpoints of LoRA fine-tuning (docs/no-prompt-and-lora.md)");
  lora
    .command("merge")
    .description(
      "fold a LoRA checkpoint's adapters into its base weights (W + (α/r)·B·A) and write a plain model directory",
    )
    .requiredOption("--model <dir>", "LoRA checkpoint directory (e.g. a fine-tuning run's best/)")
    .requiredOption("--out <dir>", "output model directory")
    .action(async (o: { model: string; out: string }) => {
      const names = await mergeLoraCheckpoint(o.model, o.out);
      process.stderr.write(`merged ${names.length} adapted projections\n`);
      process.stdout.write(`${o.out}\n`);
    });
  lora.exitOverride();
}
