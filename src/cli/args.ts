/**
 * Flag parsers and helpers shared by the subcommands. Parsers throw commander's InvalidArgumentError, which it
 * prints as `error: option '--flag <x>' argument 'v' is invalid. <message>` and turns into exit code 2.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseBytes } from "../kernels/plan.ts";
import { DEFAULT_DEVICE, DEVICES } from "../model/runtime/providers.ts";
import { loadTask, overrideTask, parseMapping, type TaskDef } from "../prompts/task.ts";
import { cliMessage, flagParser } from "./option-errors.ts";

/** Exit code for usage errors (unknown command or flag, bad flag value), as in most Unix tools. */
export const EXIT_USAGE = 2;

/** Report a usage error (bad flag value) from inside an action: printed by commander, exit code 2. */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: EXIT_USAGE, code: "entk.usage" });
  throw new Error(message); // unreachable: cmd.error throws (exitOverride) or exits
}

/** An integer in [min, max]; `max` defaults to the largest safe integer. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*[+-]?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${range}, got "${v}"`);
    return n;
  };
}

/** A seed: an integer in [0, 2^32 − 1] (what MT19937 and the trainer's generator take). */
export const seedArg = intArg(0, 0xffffffff);

/** A finite number, at least `min` when given. */
export function numberArg(min?: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || (min !== undefined && n < min))
      throw new InvalidArgumentError(`expected a number${min === undefined ? "" : ` >= ${min}`}, got "${v}"`);
    return n;
  };
}

/** `--device`: the execution provider, DEFAULT_DEVICE unless `inherit` (then absent, e.g. to take a config's). */
export function deviceOption(inherit?: string): Option {
  const o = new Option("--device <device>", `execution provider (default: ${inherit ?? DEFAULT_DEVICE})`).choices(
    DEVICES,
  );
  return inherit ? o : o.default(DEFAULT_DEVICE);
}

/** A memory size: "8GB", "512MiB", "1.5g" or a number of bytes. */
export const memoryArg: (v: string) => number = flagParser((v) => parseBytes(v));

/** Comma-separated items, each parsed by `item` (trimmed; empty items are an error). */
export function listArg<T>(item: (s: string) => T, what = "values") {
  return (v: string): T[] => {
    const parts = v.split(",").map((s) => s.trim());
    if (parts.some((s) => s === "")) throw new InvalidArgumentError(`expected comma-separated ${what}, got "${v}"`);
    return parts.map(item);
  };
}

/** Comma-separated choices out of `allowed`, deduplicated in order. */
export function choiceListArg<T extends string>(allowed: readonly T[], what: string) {
  return listArg((s: string): T => {
    if (!(allowed as readonly string[]).includes(s))
      throw new InvalidArgumentError(`unknown ${what} "${s}" (expected a comma list of ${allowed.join(", ")})`);
    return s as T;
  }, `${what}s`);
}

/** Load a task named on the command line; an unknown name is a usage error. */
export function taskFromFlag(cmd: Command, name: string): TaskDef {
  try {
    return loadTask(name);
  } catch (err) {
    const msg = (err as Error).message;
    if (/^unknown task|^task file .* not found/.test(msg)) usageError(cmd, msg);
    throw err;
  }
}

/** The prompt overrides of `entk prompt show` and `entk finetune`. */
export interface TaskOverrideFlags {
  template?: string;
  mapping?: string;
  maxLength?: number;
  firstSentLimit?: number | null;
  otherSentLimit?: number | null;
}

const sentLimitArg = (v: string): number | null => (v === "none" ? null : intArg(0)(v));

/** Add --template, --mapping, --max-length, --first-sent-limit and --other-sent-limit to `cmd`. */
export function addTaskOverrideOptions(cmd: Command): Command {
  return cmd
    .option("--template <t>", "override the task's template (LM-BFF syntax)")
    .option("--mapping <m>", "override the label words, e.g. \"{'0':'terrible','1':'great'}\"")
    .addOption(new Option("--max-length <n>", "override the task's max length").argParser(intArg(1)))
    .addOption(
      new Option("--first-sent-limit <n>", 'override the first-sentence limit ("none" removes it)').argParser(
        sentLimitArg,
      ),
    )
    .addOption(
      new Option("--other-sent-limit <n>", 'override the other-sentence limit ("none" removes it)').argParser(
        sentLimitArg,
      ),
    );
}

/** `--task` with the overrides of addTaskOverrideOptions applied; bad names and mappings are usage errors. */
export function taskWithOverrides(cmd: Command, name: string, o: TaskOverrideFlags): TaskDef {
  let mapping: Record<string, string> | undefined;
  try {
    mapping = o.mapping === undefined ? undefined : parseMapping(o.mapping);
  } catch (err) {
    usageError(cmd, cliMessage(err));
  }
  return overrideTask(taskFromFlag(cmd, name), {
    template: o.template,
    mapping,
    maxLength: o.maxLength,
    firstSentLimit: o.firstSentLimit,
    otherSentLimit: o.otherSentLimit,
  });
}
