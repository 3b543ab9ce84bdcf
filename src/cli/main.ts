import { Command, CommanderError, Help, type Option } from "commander";
import { loadMethodModules } from "../experiments/method-modules.ts";
import { ENTK_VERSION } from "../version.ts";
import { EXIT_USAGE } from "./args.ts";
import { cliMessage } from "./option-errors.ts";

export { EXIT_USAGE };

/** A command module: registers its command(s) on the program. */
type Register = (program: Command) => void;

/**
 * Every command in pipeline order (the order `entk --help` lists them) with the one-line summary the root help
 * shows and the module that registers it. A module is imported only when one of its commands runs (or by
 * `buildProgram`), so `entk --help` and `entk --version` load neither onnxruntime nor the library. A new command is
 * one entry here.
 */
const COMMANDS: readonly { name: string; module: string; summary: string; load: () => Promise<Register> }[] = [
  {
    name: "env",
    module: "env",
    summary: "print versions, usable execution providers, threads, memory and the HF cache",
    load: async () => (await import("./commands/env.ts")).registerEnv,
  },
  {
    name: "data",
    module: "data",
    summary: "datasets: download LM-BFF's data and generate k-shot splits",
    load: async () => (await import("./commands/data.ts")).registerData,
  },
  {
    name: "prompt",
    module: "prompt",
    summary: "inspect how a task's prompt encodes examples",
    load: async () => (await import("./commands/prompt.ts")).registerPrompt,
  },
  {
    name: "model",
    module: "model",
    summary: "model weights: pull from the Hub, make random ones, inspect",
    load: async () => (await import("./commands/model.ts")).registerModel,
  },
  {
    name: "pretrain",
    module: "pretrain",
    summary: "masked-LM pretraining (RoBERTa recipe) of a new or existing model",
    load: async () => (await import("./commands/pretrain.ts")).registerPretrain,
  },
  {
    name: "kernel",
    module: "kernel",
    summary: "compute exact eNTKs of a prompt MLM on a k-shot split",
    load: async () => (await import("./commands/kernel.ts")).registerKernel,
  },
  {
    name: "cache",
    module: "cache",
    summary: "show, prune or clear the kernel cache (gradient factors, kernel blocks)",
    load: async () => (await import("./commands/cache.ts")).registerCache,
  },
  {
    name: "solve",
    module: "solve",
    summary: "fit a kernel solver on an `entk kernel` directory; writes dev/test metrics",
    load: async () => (await import("./commands/solve.ts")).registerSolve,
  },
  {
    name: "finetune",
    module: "finetune",
    summary: "prompt-based fine-tuning baseline (SGD, SignGD or AdamW)",
    load: async () => (await import("./commands/finetune.ts")).registerFinetune,
  },
  {
    name: "lora",
    module: "lora",
    summary: "LoRA adapters: fold a LoRA checkpoint's adapters into its base weights",
    load: async () => (await import("./commands/lora.ts")).registerLora,
  },
  {
    name: "linearize",
    module: "linearize",
    summary: "compare a fine-tuned model with its linearization around the base model",
    load: async () => (await import("./commands/linearize.ts")).registerLinearize,
  },
  {
    name: "dynamics",
    module: "dynamics",
    summary: "predict a fine-tuning run from the eNTK",
    load: async () => (await import("./commands/dynamics.ts")).registerDynamics,
  },
  {
    name: "run",
    module: "run",
    summary: "one task, k and seed through split → kernel → solve (and fine-tuning)",
    load: async () => (await import("./commands/run.ts")).registerRun,
  },
  {
    name: "sweep",
    module: "sweep",
    summary: "run a sweep config (tasks × k × seeds × methods), resumable and shardable",
    load: async () => (await import("./commands/sweep.ts")).registerSweep,
  },
  {
    name: "report",
    module: "report",
    summary: "aggregate sweep results into a Table 2-like markdown report with charts",
    load: async () => (await import("./commands/report.ts")).registerReport,
  },
  {
    name: "task-vector",
    module: "task-vector",
    summary: "task vectors τ = θ_ft − θ₀: create one, or apply θ₀ + Σ αᵢτᵢ",
    load: async () => (await import("./commands/task-vector.ts")).registerTaskVector,
  },
  {
    name: "localization",
    module: "localization",
    summary: "eNTK eigenfunction localization over two tasks (local energy per task)",
    load: async () => (await import("./commands/localization.ts")).registerLocalization,
  },
  {
    name: "arithmetic",
    module: "arithmetic",
    summary: "task arithmetic: add and negate task vectors, nonlinear or linearized",
    load: async () => (await import("./commands/arithmetic.ts")).registerArithmetic,
  },
  {
    name: "disentangle",
    module: "arithmetic",
    summary: "weight disentanglement error ξ(α₁, α₂) of two task vectors on a grid",
    load: async () => (await import("./commands/arithmetic.ts")).registerArithmetic,
  },
  {
    name: "analyze",
    module: "analyze",
    summary: "collect analysis outputs into a report",
    load: async () => (await import("./commands/analyze.ts")).registerAnalyze,
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
  // A module may register several commands (arithmetic, disentangle): all of them are real once it is loaded.
  const modules = new Set(COMMANDS.filter((c) => !only || only.has(c.name)).map((c) => c.module));
  const loaded = new Set<string>();
  for (const c of COMMANDS) {
    if (!modules.has(c.module)) program.command(c.name).summary(c.summary);
    else if (!loaded.has(c.module)) {
      (await c.load())(program);
      loaded.add(c.module);
    }
  }
  for (const c of COMMANDS) {
    const cmd = program.commands.find((p) => p.name() === c.name)!;
    cmd.summary(c.summary);
    if (!cmd.description()) cmd.description(c.summary);
  }
  // Commander only rejects unknown subcommands when it has some; make the root strict as well.
  program.on("command:*", (operands: string[]) => {
    program.error(`error: unknown command '${operands[0]}'`, {
      code: "commander.unknownCommand",
      exitCode: EXIT_USAGE,
    });
  });
  for (const cmd of program.commands) cmd.exitOverride();
  // `--device` other than the CPU: check it before any work, so a missing provider fails at once, in one line.
  program.hook("preAction", async (_root, action) => {
    const device = action.opts().device;
    if (typeof device !== "string") return;
    const { DEFAULT_DEVICE } = await import("../model/runtime/providers.ts");
    if (device !== DEFAULT_DEVICE) await (await import("../model/runtime/session.ts")).checkDevice(device as never);
  });
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
    await loadMethodModules(process.env);
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
    process.stderr.write(`entk: ${cliMessage(err)}\n`);
    return 1;
  }
}
