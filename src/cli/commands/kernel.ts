import { type Command, Option } from "commander";
import { DEFAULT_CACHE_BUDGET_TEXT } from "../../kernels/cache-budget.ts";
import { CLASSIC_FORMULAS, type ClassicFormula } from "../../kernels/classic.ts";
import { FORMULAS, type Formula, STRATEGIES, type Strategy } from "../../kernels/types.ts";
import type { Device } from "../../model/runtime/providers.ts";
import { defaultCacheDir, runKernelJob } from "../../pipelines/kernel-job.ts";
import { hfOffline } from "../../util/hf-cache.ts";
import {
  addTaskOverrideOptions,
  choiceListArg,
  deviceOption,
  intArg,
  memoryArg,
  numberArg,
  seedArg,
  type TaskOverrideFlags,
  taskWithOverrides,
} from "../args.ts";
import { addVariantOptions, type VariantFlags, variantFromFlags } from "../variant-flags.ts";

const EVAL_SPLITS = ["dev", "test"] as const;
const unique =
  <T>(parse: (v: string) => T[]) =>
  (v: string) => [...new Set(parse(v))];
const parseFormulas = unique(choiceListArg([...FORMULAS, ...CLASSIC_FORMULAS], "formula"));
const parseEvalSplits = unique(choiceListArg(EVAL_SPLITS, "split"));

interface KernelFlags extends TaskOverrideFlags, VariantFlags {
  loraSeed: number;
  model: string;
  revision?: string;
  task: string;
  splitDir: string;
  formulas: (Formula | ClassicFormula)[];
  degree?: number;
  coef0?: number;
  polyGamma?: number;
  sigma?: number;
  binary?: boolean;
  excludeEmbeddings?: boolean;
  excludeHead?: boolean;
  onlyBiases?: boolean;
  evalSplits: ("dev" | "test")[];
  limitEval?: number;
  memory?: number;
  device: Device;
  strategy: Strategy;
  cacheDir?: string;
  cache: boolean;
  cacheFactors?: boolean;
  cacheMax?: number;
  offline?: boolean;
  out: string;
  quiet?: boolean;
  skipBadRows?: boolean;
}

export function registerKernel(program: Command): void {
  const command = program
    .command("kernel")
    .description(
      "compute exact eNTKs (sgd, signgd, asymmetric_signgd) of a prompt MLM on a k-shot split; writes kernels, " +
        "labels and initial logits to OUT (README: Kernel output layout)",
    )
    .requiredOption("--model <dir|repo-id>", "model directory or Hugging Face repo id")
    .option("--revision <rev>", "Hub revision (with a repo id)")
    .requiredOption(
      "--task <name|file>",
      "task name (case-insensitive, e.g. SST-2, GLUE-SST-2, MNLI) or task .json file",
    )
    .requiredOption("--split-dir <dir>", "k-shot split directory (train/dev/test files)")
    .addOption(
      new Option(
        "--formulas <list>",
        `comma list of ${FORMULAS.join(", ")} (eNTKs) and ${CLASSIC_FORMULAS.join(", ")} (classic kernels on frozen features)`,
      )
        .argParser(parseFormulas)
        .default(["sgd"] as Formula[], "sgd"),
    )
    .option("--binary", "f = f₁ − f₀ (C = 1), as --binary_classification")
    .option("--degree <d>", "poly: degree d of (γ⟨φ, φ'⟩ + c)^d (default: 3)", intArg(1))
    .option("--coef0 <c>", "poly: offset c (default: 1)", numberArg())
    .option("--poly-gamma <g>", "poly: scale γ (default: 1/hidden size)", numberArg())
    .option("--sigma <s>", "rbf: bandwidth σ (default: the median distance between training features)", numberArg())
    .option("--exclude-embeddings", 'leave out parameters whose name contains "embed"')
    .option("--exclude-head", "leave out the MLM head (lm_head.*, BERT cls.*)")
    .option("--only-biases", 'only parameters whose name contains "bias"')
    .addOption(
      new Option("--eval-splits <list>", "comma list of dev, test")
        .argParser(parseEvalSplits)
        .default(["dev", "test"] as ("dev" | "test")[], "dev,test"),
    )
    .option(
      "--limit-eval <n>",
      "use a seeded subsample of n examples of each eval split, the same for every seed (default: all)",
      intArg(1),
    )
    .option("--memory <size>", "memory budget, e.g. 8GB (default: half the RAM)", memoryArg)
    .addOption(deviceOption())
    .addOption(new Option("--strategy <s>", "contraction strategy").choices(STRATEGIES).default("auto"))
    .option(
      "--cache-dir <dir>",
      `cache for gradient factors and kernel blocks (default: ${defaultCacheDir()}, or $ENTK_CACHE_DIR)`,
    )
    .option("--no-cache", "do not read or write the cache")
    .option(
      "--cache-factors",
      "also cache per-example gradient factors when they fit in the cache budget (large, see README: Disk use; " +
        "default: kernel blocks only)",
    )
    .option(
      "--cache-max <size>",
      `cache budget, e.g. 50GB (also $ENTK_CACHE_MAX; default: ${DEFAULT_CACHE_BUDGET_TEXT}): after the job the ` +
        "cache is pruned to it, least recently used first; given, factors are also cached when the cache plus them fit",
      memoryArg,
    );
  addTaskOverrideOptions(addVariantOptions(command))
    .addOption(new Option("--lora-seed <n>", "seed of LoRA's A initialization").argParser(seedArg).default(0))
    .option("--offline", "use the Hugging Face cache only (also HF_HUB_OFFLINE=1)")
    .requiredOption("--out <dir>", "output directory")
    .option("--skip-bad-rows", "skip malformed data rows with a warning instead of failing")
    .option("--quiet", "no progress bar")
    .action(async (o: KernelFlags, cmd: Command) => {
      const meta = await runKernelJob({
        variant: variantFromFlags(cmd, o),
        loraSeed: o.loraSeed,
        model: o.model,
        revision: o.revision,
        offline: o.offline || hfOffline(),
        task: taskWithOverrides(cmd, o.task, o),
        splitDir: o.splitDir,
        formulas: o.formulas,
        classic: { degree: o.degree, coef0: o.coef0, gamma: o.polyGamma, sigma: o.sigma },
        binary: o.binary,
        filter: { excludeEmbeddings: o.excludeEmbeddings, excludeHead: o.excludeHead, onlyBiases: o.onlyBiases },
        evalSplits: o.evalSplits,
        limitEval: o.limitEval,
        memoryBytes: o.memory,
        device: o.device,
        strategy: o.strategy,
        out: o.out,
        cacheDir: o.cache ? o.cacheDir : false,
        cacheFactors: o.cacheFactors,
        cacheMax: o.cacheMax,
        quiet: o.quiet,
        skipBadRows: o.skipBadRows,
        onSkip: (m) => process.stderr.write(`entk: warning: ${m}\n`),
      });
      const t = meta.timings;
      process.stderr.write(
        `kernels ${meta.kernels.join(", ")} for ${Object.entries(meta.splits)
          .map(([s, n]) => `${s} (${n})`)
          .join(", ")}; grad_dim ${meta.grad_dim}; gradients ${t.gradients_s.toFixed(1)} s, contraction ` +
          `${t.contraction_s.toFixed(1)} s, total ${t.total_s.toFixed(1)} s\n`,
      );
      process.stdout.write(`${o.out}\n`);
    });
}
