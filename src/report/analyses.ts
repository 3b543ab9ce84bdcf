/**
 * `entk analyze report`: one markdown page (with its SVGs copied beside it) from the outputs of `entk arithmetic`,
 * `entk disentangle` and `entk localization` found in the given directories (docs/analyses.md).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import type { ArithmeticResult, DisentanglementResult } from "../analyses/arithmetic.ts";
import { arithmeticMarkdown } from "../analyses/edit-job.ts";
import { LOCALIZED_SHARE } from "../analyses/localization.ts";
import type { LocalizationReport } from "../analyses/localization-job.ts";
import { writeFileAtomic } from "../util/atomic.ts";

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, "utf8")) as T;

function localizationMarkdown(r: LocalizationReport, svg: string | undefined): string {
  const [a, b] = r.tasks;
  const lines = [
    `## Eigenfunction localization: ${a} vs ${b}`,
    "",
    `eNTK at θ₀ of ${r.model.id} over ${r.examples.train[0]} + ${r.examples.train[1]} training examples ` +
      `(${r.rows.train[0]} + ${r.rows.train[1]} rows), held-out ${r.examples.heldout[0]} + ${r.examples.heldout[1]}. ` +
      `Localized = share ≥ ${LOCALIZED_SHARE}: ${r.localized.train[0]} on ${a} and ${r.localized.train[1]} on ${b} of the top ${r.top.length} (training rows)` +
      (r.localized.heldout ? `; ${r.localized.heldout[0]} and ${r.localized.heldout[1]} on held-out rows.` : "."),
    "",
    `| k | λ | share on ${a} (train) | share on ${a} (held-out) |`,
    "|---|---|---|---|",
    ...r.top
      .slice(0, 10)
      .map(
        (t) =>
          `| ${t.k} | ${t.eigenvalue.toPrecision(4)} | ${t.train.share[0].toFixed(3)} | ${t.heldout ? t.heldout.share[0].toFixed(3) : "—"} |`,
      ),
    "",
  ];
  if (svg) lines.push(`![localization](${svg})`, "");
  return lines.join("\n");
}

function disentangleMarkdown(rs: Record<string, DisentanglementResult>, svgs: Record<string, string>): string {
  const first = Object.values(rs)[0];
  const lines = [
    `## Weight disentanglement: ${first.tasks[0]} + ${first.tasks[1]}`,
    "",
    "| model | grid | mean ξ | ξ at (1, 1) |",
    "|---|---|---|---|",
  ];
  for (const [mode, r] of Object.entries(rs)) {
    const i = r.grid.findIndex((g) => Math.abs(g - 1) < 1e-9);
    lines.push(
      `| ${mode} | ${r.grid.length}×${r.grid.length} over [${r.grid[0]}, ${r.grid.at(-1)}]² | ${r.mean.toFixed(4)} | ${i >= 0 ? r.xi[i][i].toFixed(4) : "—"} |`,
    );
  }
  lines.push("");
  for (const [mode, svg] of Object.entries(svgs)) lines.push(`![ξ ${mode}](${svg})`, "");
  return lines.join("\n");
}

/** Render every analysis output found in `dirs` into `out` (markdown); SVGs are copied into `<out>.files/`. */
export async function writeAnalysesReport(dirs: readonly string[], out: string): Promise<{ sections: number }> {
  const assets = join(dirname(out), `${basename(out, ".md")}.files`);
  const sections: string[] = [];
  const copy = (src: string, tag: string): string => {
    mkdirSync(assets, { recursive: true });
    const dst = join(assets, `${tag}-${basename(src)}`);
    copyFileSync(src, dst);
    return relative(dirname(out), dst);
  };
  dirs.forEach((dir, di) => {
    const tag = `${di + 1}`;
    const arith = join(dir, "arithmetic.json");
    if (existsSync(arith))
      for (const [mode, r] of Object.entries(readJson<Record<string, ArithmeticResult>>(arith)))
        sections.push(arithmeticMarkdown(r, mode));
    const dis = join(dir, "disentangle.json");
    if (existsSync(dis)) {
      const rs = readJson<Record<string, DisentanglementResult>>(dis);
      const svgs: Record<string, string> = {};
      for (const f of readdirSync(dir).filter((f) => /^disentangle\..*\.svg$/.test(f)))
        svgs[f.split(".")[1]] = copy(join(dir, f), tag);
      sections.push(disentangleMarkdown(rs, svgs));
    }
    const loc = join(dir, "localization.json");
    if (existsSync(loc)) {
      const svg = join(dir, "localization.svg");
      sections.push(
        localizationMarkdown(readJson<LocalizationReport>(loc), existsSync(svg) ? copy(svg, tag) : undefined),
      );
    }
  });
  if (sections.length === 0)
    throw new Error(`no analysis outputs (arithmetic.json, disentangle.json, localization.json) in ${dirs.join(", ")}`);
  await writeFileAtomic(out, `# Analyses\n\n${sections.join("\n")}`);
  return { sections: sections.length };
}
