import type { Command } from "commander";
import { writeAnalysesReport } from "../../report/analyses.ts";

export function registerAnalyze(program: Command): void {
  const analyze = program
    .command("analyze")
    .description("collect the outputs of the analyses (arithmetic, disentangle, localization) into a report");
  analyze
    .command("report")
    .description(
      "one markdown page (SVGs copied beside it) from the outputs of entk arithmetic, disentangle and localization",
    )
    .argument("<dirs...>", "directories holding arithmetic.json, disentangle.json or localization.json")
    .requiredOption("--out <file>", "markdown file to write, e.g. reports/analyses.md")
    .action(async (dirs: string[], o: { out: string }) => {
      const r = await writeAnalysesReport(dirs, o.out);
      process.stdout.write(`${r.sections} sections → ${o.out}\n`);
    });
}
