import { type Command, Option } from "commander";
import { readResults } from "../../experiments/store.ts";
import { writeReport } from "../../report/report.ts";

interface ReportOpts {
  out: string;
  reference?: "paper";
  poolSolvers?: boolean;
  title?: string;
}

export function registerReport(program: Command): void {
  program
    .command("report")
    .description(
      "aggregate sweep results into a markdown report laid out like the paper's Table 2: best dev configuration " +
        "per seed, then mean (population std) of test over seeds, ×100; with SVG charts and a run manifest",
    )
    .argument("<results...>", "sweep output dirs, records dirs or .jsonl files (duplicates are dropped)")
    .requiredOption("--out <file.md>", "markdown to write, e.g. reports/quick.md; charts and manifest go next to it")
    .addOption(new Option("--reference <which>", "add the paper's numbers and the difference").choices(["paper"]))
    .option("--pool-solvers", "one row per kernel formula, choosing the solver on dev like a hyperparameter")
    .option("--title <text>", 'report title (default: "entk report: <file name>")')
    .action(async (inputs: string[], opts: ReportOpts) => {
      const { records, duplicates } = readResults(inputs);
      const files = await writeReport(records, {
        out: opts.out,
        reference: opts.reference,
        poolSolvers: opts.poolSolvers,
        title: opts.title,
        inputs,
        duplicatesDropped: duplicates,
      });
      process.stderr.write(
        `report: ${records.length} records → ${files.markdown} (${files.charts.length} charts, manifest ${files.manifest})\n`,
      );
    });
}
