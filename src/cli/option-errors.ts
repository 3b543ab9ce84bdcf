/**
 * The CLI's side of library option errors (src/util/errors.ts, docs/glossary.md "Errors"): lower layers name an
 * option by its library name; here it becomes the flag a user types.
 */
import { InvalidArgumentError } from "commander";
import { OptionError } from "../util/errors.ts";

/** Library option names whose flag is not their kebab-case form. */
const FLAGS: Record<string, string> = {
  gammaGrid: "--gamma",
  lambdaGrid: "--lambda",
  tokenizerDir: "--tokenizer",
};

/**
 * The flag of a library option name: `selectOn` → `--select-on`, with the exceptions of FLAGS. Names that are not
 * camelCase identifiers (an environment variable such as `ENTK_CACHE_MAX`) are kept as they are.
 */
export function flagName(option: string): string {
  if (FLAGS[option]) return FLAGS[option];
  if (!/^[a-z][A-Za-z0-9]*$/.test(option)) return option;
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** An error's message as the CLI prints it: option errors name flags. */
export function cliMessage(err: unknown): string {
  if (err instanceof OptionError) return err.describe(flagName);
  return err instanceof Error ? err.message : String(err);
}

/**
 * A commander argument parser from a library parser whose errors are OptionErrors about the flag's own value:
 * commander prints the flag itself, so the message keeps only what was expected.
 */
export function flagParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof OptionError) throw new InvalidArgumentError(err.detail ?? err.describe(flagName));
      throw err;
    }
  };
}
