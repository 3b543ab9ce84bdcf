import { Command, CommanderError, Help, type Option } from "commander";
import { ENTK_VERSION } from "../version.ts";
import { EXIT_USAGE } from "./args.ts";
import { registerAnalyze } from "./commands/analyze.ts";
import { registerArithmetic } from "./commands/arithmetic.ts";
import { registerCache } from "./commands/cache.ts";
import { registerData } from "./commands/data.ts";
import { registerDynamics } from "./commands/dynamics.ts";
import { registerEnv } from "./commands/env.ts";
import { registerFinetune } from "./commands/finetune.ts";
import { registerKernel } from "./commands/kernel.ts";
import { registerLinearize } from "./commands/linearize.ts";
import { registerLocalization } from "./commands/localization.ts";
import { registerLora } from "./commands/lora.ts";
import { registerModel } from "./commands/model.ts";
import { registerPrompt } from "./commands/prompt.ts";
import { registerReport } from "./commands/report.ts";
import { registerRun } from "./commands/run.ts";
import { registerSolve } from "./commands/solve.ts";
import { registerSweep } from "./commands/sweep.ts";
import { registerTaskVector } from "./commands/task-vector.ts";

export { EXIT_USAGE };

export function buildProgram(): Command {
  const program = new Command("entk")
    .description("Exact eNTKs of prompt-based masked language models, side by side with fine-tuning.")
    .version(ENTK_VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    // Inherited by every subcommand: mandatory options say so in --help (commander only shows defaults and choices).
    .configureHelp({
      optionDescription(this: Help, o: Option) {
        const d = Help.prototype.optionDescription.call(this, o);
        return o.mandatory ? `${d} (required)` : d;
      },
    });
  // In pipeline order, which is the order `entk --help` lists them.
  registerEnv(program);
  registerData(program);
  registerPrompt(program);
  registerModel(program);
  registerKernel(program);
  registerCache(program);
  registerSolve(program);
  registerFinetune(program);
  registerLora(program);
  registerLinearize(program);
  registerDynamics(program);
  registerRun(program);
  registerSweep(program);
  registerReport(program);
  registerTaskVector(program);
  registerLocalization(program);
  registerArithmetic(program);
  registerAnalyze(program);
  // Commander only rejects unknown subcommands when it has some; make the root strict as well.
  program.on("command:*", (operands: string[]) => {
    program.error(`error: unknown command '${operands[0]}'`, {
      code: "commander.unknownCommand",
      exitCode: EXIT_USAGE,
    });
  });
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Run the CLI; returns the process exit code instead of exiting so tests and embedders can call it. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help")
        return 0;
      return EXIT_USAGE;
    }
    process.stderr.write(`entk: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
