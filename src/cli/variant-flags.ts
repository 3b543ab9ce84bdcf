/** The model-variant flags shared by `kernel`, `finetune` and `run`: --no-prompt and LoRA (docs/no-prompt-and-lora.md). */
import { type Command, Option } from "commander";
import { LORA_TARGETS, type ModelVariant } from "../model/variant.ts";
import { choiceListArg, intArg, numberArg, usageError } from "./args.ts";

export interface VariantFlags {
  /** commander's negation of --prompt: false with --no-prompt. */
  prompt?: boolean;
  loraR?: number;
  loraAlpha?: number;
  loraTargets?: ("query" | "value")[];
}

export function addVariantOptions(cmd: Command): Command {
  return cmd
    .option("--no-prompt", "no prompt: a linear classifier on <s>'s last hidden state, initialized by the linear probe")
    .option("--lora-r <r>", "LoRA rank: train/differentiate only adapters on query/value and the heads", intArg(1))
    .option("--lora-alpha <a>", "LoRA scale numerator (scale α/r; default: r)", numberArg(0))
    .addOption(
      new Option("--lora-targets <list>", `comma list of ${LORA_TARGETS.join(", ")} (default: both)`).argParser(
        choiceListArg(LORA_TARGETS, "target"),
      ),
    );
}

/** The variant the flags ask for; LoRA options without --lora-r are a usage error. */
export function variantFromFlags(cmd: Command, o: VariantFlags): ModelVariant {
  if (o.loraR === undefined && (o.loraAlpha !== undefined || o.loraTargets))
    usageError(cmd, "--lora-alpha and --lora-targets need --lora-r");
  if (o.loraAlpha !== undefined && o.loraAlpha <= 0) usageError(cmd, "--lora-alpha must be > 0");
  return {
    ...(o.prompt === false ? { noPrompt: true } : {}),
    ...(o.loraR !== undefined
      ? { lora: { r: o.loraR, alpha: o.loraAlpha ?? o.loraR, targets: [...new Set(o.loraTargets ?? LORA_TARGETS)] } }
      : {}),
  };
}

/**
 * `entk run --no-prompt / --lora-*`: the variant keys appended to every kernel and ft method spec (probe: noPrompt
 * only; zero-shot is always prompted), so the jobs are the same as sweep entries with those keys.
 */
export function methodSpecWithVariant(spec: string, v: ModelVariant): string {
  const kind = spec.split(":")[0];
  const keys: string[] = [];
  // ft-lin takes no variant keys: appending them makes the spec's validation refuse the combination by name.
  const ft = kind === "ft" || kind === "ft-lin";
  if (v.noPrompt && (kind === "kernel" || ft || kind === "probe")) keys.push("noPrompt=true");
  if (v.lora && (kind === "kernel" || ft))
    keys.push(`loraR=${v.lora.r}`, `loraAlpha=${v.lora.alpha}`, `loraTargets=${v.lora.targets.join(",")}`);
  return [spec, ...keys].join(":");
}
