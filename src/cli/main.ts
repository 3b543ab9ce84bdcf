import { Command, CommanderError, Help, type Option } from "commander";
import { ENTK_VERSION } from "../version.ts";
import { EXIT_USAGE } from "./args.ts";

export { EXIT_USAGE };

/**
 * Every command in pipeline order (the order `entk --help` lists them) with the one-line summary the root help
 * shows. A command's module is imported only when that command runs (or by `buildProgram`), so `entk --help` and
 * `entk --version` load neither onnxruntime nor the library. A new command is one entry here.
 */
const COMMANDS: readonly { name: string; summary: string; load: () => Promise<(program: Command) => void> }[] = [
  {
    name: "env",
    summary: "print versions, usable execution providers, threads, memory and the HF cache",
    load: async () => (await import("./commands/env.ts")).registerEnv,
  },
  {
    name: "data",
    summary: "datasets: download LM-BFF's data and generate k-shot splits",
    load: async () => (await import("./commands/data.ts")).registerData,
  },
  {
    name: "prompt",
    summary: "inspect how a task's prompt encodes examples",
    load: async () => (await import("./commands/prompt.ts")).registerPrompt,
  },
  {
    name: "model",
    summary: "model weights: pull from the Hub, make random ones, inspect",
    load: async () => (await import("./commands/model.ts")).registerModel,
  },
  {
    name: "kernel",
    summary: "compute exact eNTKs of a prompt MLM on a k-shot split",
    load: async () => (await import("./commands/kernel.ts")).registerKernel,
  },
  {
    name: "solve",
    summary: "fit a kernel solver on an `entk kernel` directory; writes dev/test metrics",
    load: async () => (await import("./commands/solve.ts")).registerSolve,
  },
  {
    name: "finetune",
    summary: "prompt-based fine-tuning baseline (SGD, SignGD or AdamW)",
    load: async () => (await import("./commands/finetune.ts")).registerFinetune,
  },
  {
    name: "run",
    summary: "one task, k and seed through split → kernel → solve (and fine-tuning)",
    load: async () => (await import("./commands/run.ts")).registerRun,
  },
  {
    name: "sweep",
    summary: "run a sweep config (tasks × k × seeds × methods), resumable and shardable",
    load: async () => (await import("./commands/sweep.ts")).registerSweep,
  },
  {
    name: "report",
    summary: "aggregate sweep results into a Table 2-like markdown report with charts",
    load: async () => (await import("./commands/report.ts")).registerReport,
  },
  {
    name: "task-vector",
    summary: "task vectors τ = θ_ft − θ₀: create one, or apply θ₀ + Σ αᵢτᵢ",
    load: async () => (await import("./commands/task-vector.ts")).registerTaskVector,
  },
  {
    name: "localization",
    summary: "eNTK eigenfunction localization over two tasks (local energy per task)",
    load: async () => (await import("./commands/localization.ts")).registerLocalization,
  },
];

function rootProgram(): Command {
  return (
    new Command("entk")
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
      })
  );
}

/**
 * The program with the commands named in `only` fully registered (all of them by default) and the others as
 * placeholders that carry just their name and summary, for the root help.
 */
export async function buildProgram(only?: ReadonlySet<string>): Promise<Command> {
  const program = rootProgram();
  for (const c of COMMANDS) {
    if (only && !only.has(c.name)) program.command(c.name).summary(c.summary);
    else {
      (await c.load())(program);
      const cmd = program.commands.at(-1)!.summary(c.summary);
      if (!cmd.description()) cmd.description(c.summary);
    }
  }
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

/** The command an argument vector runs (`entk help X` counts as X), if it names one. */
function commandOf(argv: string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.some((c) => c.name === name) ? name : undefined;
}

/** Run the CLI; returns the process exit code instead of exiting so tests and embedders can call it. */
export async function main(argv: string[]): Promise<number> {
  try {
    const name = commandOf(argv);
    const program = await buildProgram(new Set(name ? [name] : []));
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
