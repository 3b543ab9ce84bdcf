import { readFileSync } from "node:fs";

/** mean and std ×100, as printed in the paper. */
export type PaperValue = [mean: number, std: number];

interface PaperTable {
  source: string;
  table: Record<string, Record<string, Record<string, PaperValue>>>;
}

let cached: PaperTable | undefined;

/** The paper's Table 2 (docs/protocol.md §8), from src/report/paper-table2.json. */
export function paperTable(): PaperTable {
  cached ??= JSON.parse(readFileSync(new URL("./paper-table2.json", import.meta.url), "utf8")) as PaperTable;
  return cached;
}

/** The paper's number for (k, paper method row, paper task column), if it reports one. */
export function paperValue(k: number, method: string | undefined, task: string | undefined): PaperValue | undefined {
  if (!method || !task) return undefined;
  return paperTable().table[String(k)]?.[method]?.[task];
}
