import type { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildProgram, EXIT_USAGE, main } from "../../src/cli/main.ts";

/** Run the CLI in-process; returns the exit code and what it printed. */
async function entk(...args: string[]) {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    return { code: await main(["node", "entk", ...args]), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

/** Every command of the program with its path, groups included, in `entk --help` order. */
const program = await buildProgram();
function commands(cmd: Command = program, path: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...commands(c, [...path, c.name()])]);
}
const leaves = commands().filter((c) => c.cmd.commands.length === 0);

// What each command says when run without anything: its first missing required option or argument. A command
// without any required input has no row (the test below checks that the table covers every command that has one).
const MISSING: Record<string, RegExp> = {
  "model pull": /missing required argument 'repo-id'/,
  "model init": /required option '--arch <arch>' not specified/,
  "model info": /missing required argument 'model'/,
  "prompt show": /required option '--task <name\|file>' not specified/,
  kernel: /required option '--model <dir\|repo-id>' not specified/,
  solve: /required option '--kernels <dir>' not specified/,
  finetune: /required option '--task <name\|file>' not specified/,
  pretrain: /required option '--train <files>' not specified/,
  linearize: /required option '--model <dir\|repo-id>' not specified/,
  dynamics: /required option '--kernels <dir>' not specified/,
  run: /required option '--task <name>' not specified/,
  "lora merge": /required option '--model <dir>' not specified/,
  sweep: /missing required argument 'config'/,
  report: /required option '--out <file\.md>' not specified/,
  "task-vector create": /required option '--base <model>' not specified/,
  "task-vector apply": /required option '--base <model>' not specified/,
  localization: /required option '--model <model>' not specified/,
  arithmetic: /required option '--base <model>' not specified/,
  disentangle: /required option '--base <model>' not specified/,
  "analyze report": /required option '--out <file>' not specified/,
};

afterEach(() => vi.restoreAllMocks());

describe("usage errors exit 2 with a clear message", () => {
  it("covers every command that has a required option or argument", () => {
    const needsInput = leaves
      .filter(({ cmd }) => cmd.options.some((o) => o.mandatory) || cmd.registeredArguments.some((a) => a.required))
      .map(({ path }) => path.join(" "));
    expect(needsInput.sort()).toEqual(Object.keys(MISSING).sort());
  });

  it.each(leaves.map(({ path, cmd }) => [path.join(" "), path, cmd]))("%s --no-such-flag", async (_n, path, cmd) => {
    // Complete input otherwise (commander reports missing required options before unknown ones): "1" parses as
    // every required option's value, or its first choice; "x" for required arguments.
    const c = cmd as Command;
    const complete = [
      ...c.registeredArguments.filter((a) => a.required).map(() => "x"),
      ...c.options.filter((o) => o.mandatory).flatMap((o) => [o.long as string, o.argChoices?.[0] ?? "1"]),
    ];
    const r = await entk(...(path as string[]), ...complete, "--no-such-flag");
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/^error: unknown option '--no-such-flag'\n\(run with --help for usage\)/);
    expect(r.stdout).toBe("");
  });

  it.each(Object.entries(MISSING))("%s without its required input", async (name, message) => {
    const r = await entk(...name.split(" "));
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/run with --help for usage/);
    expect(r.stdout).toBe("");
  });

  it.each([
    [["data", "split", "--k", "0"], /option '--k <n>' argument '0' is invalid\. expected an integer >= 1, got "0"/],
    [["data", "split", "--seeds", "1,,2"], /expected comma-separated seeds, got "1,,2"/],
    [["data", "split", "--seeds", "4294967296"], /expected an integer in \[0, 4294967295\], got "4294967296"/],
    [["kernel", "--formulas", "sgd,ntk"], /unknown formula "ntk" \(expected a comma list of sgd, signgd/],
    [["kernel", "--eval-splits", "train"], /unknown split "train"/],
    [["kernel", "--limit-eval", "2.5"], /expected an integer >= 1, got "2\.5"/],
    [["solve", "--reg", "abc"], /option '--reg <r>' argument 'abc' is invalid\. expected a number, got "abc"/],
    [["solve", "--gamma", "1,x"], /expected a number, got "x"/],
    [["finetune", "--lr", "-1"], /expected a number >= 0, got "-1"/],
    [["finetune", "--first-sent-limit", "some"], /expected an integer >= 0, got "some"/],
    [["run", "--seed", "-3"], /expected an integer in \[0, 4294967295\], got "-3"/],
    [["run", "--methods", ","], /expected comma-separated methods/],
    [["sweep", "x.yaml", "--concurrency", "0"], /expected an integer >= 1, got "0"/],
    [["model", "init", "--seed", "1e3"], /expected an integer >= 0, got "1e3"/],
    [["prompt", "show", "--split", "val"], /argument 'val' is invalid\. Allowed choices are train, dev, test/],
  ])("%j: a bad flag value names the flag and what was expected", async (args, message) => {
    const r = await entk(...(args as string[]));
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(message as RegExp);
  });
});

describe("--help", () => {
  it.each(commands().map(({ path, cmd }) => [path.join(" "), path, cmd]))("%s --help", async (_n, path, cmd) => {
    const c = cmd as Command;
    const r = await entk(...(path as string[]), "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: entk ${(path as string[]).join(" ")} `));
    // One style for every description: lower-case start, no final period.
    expect(c.description()).toMatch(/^[a-z`]/);
    expect(c.description()).not.toMatch(/\.$/);
    const flat = r.stdout.replace(/\s+/g, " ");
    const help = c.createHelp();
    for (const o of c.options) {
      const shown = help.optionDescription(o);
      expect(flat).toContain(`${o.flags} ${shown.replace(/\s+/g, " ")}`);
      // Mandatory options say so (commander itself only shows defaults and choices).
      if (o.mandatory) expect(shown).toMatch(/ \(required\)$/);
      else expect(shown).not.toMatch(/\(required\)/);
    }
  });

  it("the root lists every command with a one-line summary", async () => {
    const r = await entk("--help");
    for (const c of program.commands) {
      expect(r.stdout).toContain(c.name());
      expect(c.summary() || c.description(), c.name()).toMatch(/^.{1,90}$/);
    }
  });
});
