/**
 * Rules of the repository that a test can hold (README, "Contributing"): code reaches data the repository may not
 * ship only through test/helpers/shared-data.ts and its environment variables, every section of docs/ that code or
 * the README cites exists, and the task table of docs/protocol.md matches prompts/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTask } from "../src/prompts/task.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}
const sources = ["src", "test", "scripts", "bin"].flatMap((d) => files(join(root, d)));

describe("repository rules", () => {
  it("no file under src/, test/, scripts/ or bin/ names the project's shared folder", () => {
    const needle = ["..", "shared"].join("/"); // spelled apart so that this file does not name it
    const offenders = sources.filter((f) => readFileSync(f, "utf8").includes(needle)).map((f) => relative(root, f));
    expect(offenders, "read such data through test/helpers/shared-data.ts (ENTK_LMBFF_DIR, …)").toEqual([]);
  });

  it("every cited section of docs/*.md exists", () => {
    const headings = new Map<string, Set<string>>();
    const sectionsOf = (doc: string) => {
      if (!headings.has(doc))
        headings.set(
          doc,
          new Set(
            [...readFileSync(join(root, "docs", doc), "utf8").matchAll(/^#{2,4} §?(\d+(?:\.\d+)*)\.? /gm)].map(
              (m) => m[1],
            ),
          ),
        );
      return headings.get(doc)!;
    };
    const cited: string[] = [];
    for (const f of [...sources, join(root, "README.md")]) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/docs\/([a-z-]+\.md)`? ?§ ?(\d+(?:\.\d+)*)(?:[–-](\d+(?:\.\d+)*))?/g)) {
        for (const sec of [m[2], m[3]].filter((s) => s !== undefined)) {
          cited.push(`${m[1]} §${sec}`);
          expect(sectionsOf(m[1]).has(sec), `${relative(root, f)} cites docs/${m[1]} §${sec}`).toBe(true);
        }
      }
    }
    expect(cited.length).toBeGreaterThan(50);
  });

  it("every row of docs/protocol.md §1.1 agrees with prompts/<task>.json (template, label words, limits)", () => {
    const doc = readFileSync(join(root, "docs", "protocol.md"), "utf8");
    const section = doc.slice(doc.indexOf("### 1.1 "), doc.indexOf("### 1.2 "));
    const rows = section.split("\n").filter((l) => /^\| `[^`]+` \|/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(14);
    for (const row of rows) {
      const [name, template, words, limits] = row
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim().replace(/^`|`$/g, ""));
      const task = loadTask(name);
      expect(template, name).toBe(task.template);
      expect(words, name).toBe(task.labels.map((l) => `${l} ${task.mapping[l]}`).join(", "));
      const want = [
        task.maxLength !== 128 ? `max ${task.maxLength}` : "",
        task.firstSentLimit !== null ? `first ${task.firstSentLimit}` : "",
        task.otherSentLimit !== null ? `other ${task.otherSentLimit}` : "",
      ].filter(Boolean);
      expect(limits, name).toBe(want.length > 0 ? want.join(", ") : "—");
    }
  });
});
