/** Test helper: one fixed toy fine-tuning configuration, shared by the resume tests and the SIGKILL child. */
import { type FinetuneOptions, finetune } from "../../src/training/trainer.ts";
import { npyCheckpointIO, separableData, ToyModel } from "./toy-model.ts";

export function toyRunOptions(outDir: string, over: Partial<FinetuneOptions> = {}): FinetuneOptions {
  const { features, examples } = separableData(30, 3, 6, 11);
  const model = new ToyModel(features, 3, 0.1);
  return {
    model,
    train: examples.slice(0, 18),
    dev: examples.slice(18, 24),
    test: examples.slice(24),
    optimizer: "adam",
    lr: 0.05,
    batchSize: 4,
    steps: 23,
    evalEvery: 5,
    warmupSteps: 3,
    weightDecay: 0.01,
    seed: 5,
    metric: "acc",
    outDir,
    checkpointIO: npyCheckpointIO,
    quiet: true,
    ...over,
  };
}

// Run as a child process: `node --import tsx toy-run.ts OUT_DIR STEP_DELAY_MS` (the SIGKILL resume test).
if (process.argv[1]?.endsWith("toy-run.ts")) {
  const [outDir, delay] = process.argv.slice(2);
  await finetune(
    toyRunOptions(outDir, {
      onStep: () => new Promise((r) => setTimeout(r, Number(delay))),
    }),
  );
}
