import { type Command, Option } from "commander";
import { PRETRAIN_DEFAULTS, type PretrainHyperparams, runPretrain } from "../../training/pretrain/pretrain.ts";
import { parseInitShape, pretrainCorpus, pretrainStart } from "../../training/pretrain/setup.ts";
import { intArg, listArg, numberArg, seedArg } from "../args.ts";

const positiveInt = intArg(1);
const nonNegInt = intArg(0);
const nonNeg = numberArg(0);
const files = listArg((s: string) => s, "files");

interface PretrainCliOpts extends Omit<PretrainHyperparams, "betas" | "eps"> {
  model?: string;
  init?: string;
  tokenizer?: string;
  train: string[];
  heldout: string[];
  out: string;
  evalEvery: number;
  evalSequences: number;
  snapshotEvery: number;
  threads?: number;
  fresh?: boolean;
  quiet?: boolean;
}

/** `entk pretrain`: masked-LM pretraining on the engine (src/training/pretrain). */
export function registerPretrain(program: Command): void {
  const d = PRETRAIN_DEFAULTS;
  program
    .command("pretrain")
    .description(
      "masked-LM pretraining in RoBERTa's recipe: packed sequences, dynamic 15% masking (80/10/10), dropout, AdamW with " +
        "warmup and linear decay, gradient accumulation; writes OUT/model (Hugging Face layout), OUT/curve.jsonl " +
        "(held-out MLM loss and top-1), OUT/result.json; an interrupted run resumes from OUT/state.snap",
    )
    .option("--model <dir|repo-id>", "continue pretraining this model (optimizer state starts fresh)")
    .option("--init <shape>", "start from a random RoBERTa: hidden=H,layers=L,heads=A,intermediate=I[,positions=P]")
    .option("--tokenizer <dir>", "with --init: directory with the new model's tokenizer files")
    .requiredOption("--train <files>", "training text files (comma-separated; one document per line)", files)
    .requiredOption("--heldout <files>", "held-out text files (comma-separated)", files)
    .requiredOption("--out <dir>", "output directory")
    .addOption(new Option("--seq-len <n>", "tokens per packed sequence").argParser(positiveInt).default(d.seqLen))
    .addOption(new Option("--batch-size <n>", "sequences per micro-batch").argParser(positiveInt).default(d.batchSize))
    .addOption(new Option("--accumulate <n>", "micro-batches per step").argParser(positiveInt).default(d.accumulate))
    .addOption(new Option("--steps <n>", "optimizer steps").argParser(positiveInt).default(d.steps))
    .addOption(new Option("--lr <x>", "peak learning rate").argParser(nonNeg).default(d.lr))
    .addOption(new Option("--warmup-steps <n>", "linear warmup steps").argParser(nonNegInt).default(d.warmupSteps))
    .addOption(new Option("--weight-decay <x>", "AdamW weight decay").argParser(nonNeg).default(d.weightDecay))
    .addOption(
      new Option("--max-grad-norm <x>", "gradient clipping; 0 disables").argParser(nonNeg).default(d.maxGradNorm),
    )
    .addOption(new Option("--seed <n>", "seed of init, order, masking, dropout").argParser(seedArg).default(d.seed))
    .addOption(new Option("--mask-rate <x>", "fraction of tokens masked").argParser(nonNeg).default(d.maskRate))
    .addOption(new Option("--eval-every <n>", "held-out evaluation every n steps").argParser(positiveInt).default(100))
    .addOption(new Option("--eval-sequences <n>", "held-out sequences evaluated").argParser(positiveInt).default(128))
    .addOption(new Option("--snapshot-every <n>", "resume snapshot every n steps").argParser(positiveInt).default(100))
    .addOption(new Option("--threads <n>", "onnxruntime intra-op threads (default: all cores)").argParser(positiveInt))
    .option("--fresh", "start over, discarding a snapshot in OUT")
    .option("--quiet", "no progress bar")
    .action(async (o: PretrainCliOpts) => {
      const init = o.init === undefined ? undefined : parseInitShape(o.init);
      const start = await pretrainStart({ model: o.model, init, tokenizerDir: o.tokenizer, seed: o.seed, out: o.out });
      const corpus = await pretrainCorpus(start, { train: o.train, heldout: o.heldout }, o.out, o.quiet);
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      log(
        `train ${corpus.train.ids.length} tokens, held-out ${corpus.heldout.ids.length} tokens; model ${start.weights.source.dir}`,
      );
      const r = await runPretrain({
        ...o,
        betas: d.betas,
        eps: d.eps,
        weights: start.weights,
        tokenizer: start.tokenizer,
        train: corpus.train.ids,
        heldout: corpus.heldout.ids,
        signal: ac.signal,
        log,
        logEvery: process.stderr.isTTY ? undefined : 10,
        provenance: { train: o.train, heldout: o.heldout, start: start.weights.source, trainChars: corpus.train.chars },
      }).finally(() => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
}
