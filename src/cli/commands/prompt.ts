import { type Command, Option } from "commander";
import { type Example, readGeneric, readSplit } from "../../data/readers.ts";
import { decodeForDisplay } from "../../prompts/display.ts";
import { taskEncoder } from "../../prompts/encode.ts";
import { encodePieces } from "../../prompts/template.ts";
import { loadTokenizer } from "../../tokenizer/load.ts";
import { addTaskOverrideOptions, intArg, type TaskOverrideFlags, taskWithOverrides, usageError } from "../args.ts";
import { SST2_NAMING_NOTE } from "./data.ts";

interface ShowOpts extends TaskOverrideFlags {
  task: string;
  model: string;
  splitDir?: string;
  split: "train" | "dev" | "test";
  data?: string;
  textFields?: string;
  labelField?: string;
  n: number;
  prompt: boolean;
  skipBadRows?: boolean;
}

export function registerPrompt(program: Command): void {
  const prompt = program.command("prompt");
  const show = prompt
    .command("show")
    .description(
      "print, for a few examples, the filled template, its token pieces, the mask position and the label-word ids",
    )
    .requiredOption(
      "--task <name|file>",
      "task name (case-insensitive, e.g. SST-2, GLUE-SST-2, MNLI) or task .json file",
    )
    .requiredOption("--model <dir>", "model directory (any folder with tokenizer.json)")
    .option("--split-dir <dir>", "k-shot split folder, e.g. data/k-shot/SST-2/16-13")
    .addOption(
      new Option("--split <name>", "which split of --split-dir").choices(["train", "dev", "test"]).default("train"),
    )
    .option(
      "--data <file>",
      "a JSON Lines / headered CSV file instead of --split-dir (with --text-fields, --label-field)",
    )
    .option("--text-fields <a,b>", "fields holding the sentences (with --data)")
    .option("--label-field <f>", "field holding the label (with --data)", "label")
    .option("-n <count>", "number of examples", intArg(1), 3);
  addTaskOverrideOptions(show)
    .option("--no-prompt", "show the no-prompt encoding (<s> s0 </s> s1 </s>)")
    .option("--skip-bad-rows", "skip malformed rows with a counted warning instead of failing")
    .addHelpText("after", `\n${SST2_NAMING_NOTE}`)
    .action(async (o: ShowOpts, cmd: Command) => {
      if (!o.splitDir === !o.data) usageError(cmd, "give exactly one of --split-dir or --data");
      if (o.data && !o.textFields) usageError(cmd, "--data needs --text-fields (e.g. premise,hypothesis)");
      const task = taskWithOverrides(cmd, o.task, o);
      const tok = await loadTokenizer(o.model);
      const enc = taskEncoder(tok, task, { prompt: o.prompt });
      const readOpts = { skipBadRows: o.skipBadRows };
      const read = o.data
        ? readGeneric(
            o.data,
            {
              format: o.data.endsWith(".csv") ? "csv" : "jsonl",
              text: (o.textFields ?? "").split(",").filter((s) => s !== ""),
              label: o.labelField ?? "label",
            },
            task.labels,
            readOpts,
          )
        : readSplit(o.splitDir as string, task.data, o.split, task.labels, readOpts);
      if (read.skipped > 0)
        process.stderr.write(
          `entk: warning: skipped ${read.skipped} malformed rows (first: ${read.skippedMessages[0]})\n`,
        );
      const out: string[] = [`task ${task.name}: template ${o.prompt ? task.template : "(no prompt)"}`];
      if (o.prompt) {
        out.push("label words:");
        task.labels.forEach((l, i) => {
          const id = enc.labelWordIds[i];
          out.push(`  ${i} ${l} -> " ${task.mapping[l]}" = ${JSON.stringify(tok.idToToken(id))} id ${id}`);
        });
      }
      for (const ex of read.examples.slice(0, o.n) as Example[]) {
        const e = enc.encode(ex);
        out.push("", `${ex.source}  label ${ex.label} (class ${e.label})`);
        for (const [i, t] of ex.texts.entries()) out.push(`  sent_${i}: ${t}`);
        out.push(`  filled: ${decodeForDisplay(tok, e.inputIds)}`);
        if (o.prompt) {
          const perPiece = encodePieces(tok, enc.pieces, ex.texts, enc.labelWordIds, task);
          out.push(
            `  pieces: ${enc.pieces.map((p, i) => `*${p.raw}*=[${perPiece[i].map((id) => tok.idToToken(id)).join(" ")}]`).join(" ")}`,
          );
          const full = perPiece.reduce((n, p) => n + p.length, 0);
          if (full > e.inputIds.length) out.push(`  truncated: ${full} tokens cut to --max-length ${task.maxLength}`);
        }
        out.push(`  tokens (${e.inputIds.length}): ${e.inputIds.map((id) => tok.idToToken(id)).join(" ")}`);
        out.push(`  ids: ${e.inputIds.join(" ")}`);
        out.push(`  mask position: ${e.maskPos}`);
      }
      process.stdout.write(`${out.join("\n")}\n`);
    });
}
