import type { ParamInfo } from "../model/grad-factors.ts";
import type { ParamFilter } from "./types.ts";

/** The whole MLM head: `lm_head.*` (RoBERTa: names containing "head") and BERT's `cls.predictions.*`. */
function isHead(name: string): boolean {
  return name.includes("head") || name.startsWith("cls.");
}

/** Whether a parameter takes part in the kernel under the reference's subset flags (docs/protocol.md §4). */
export function includeParam(name: string, filter: ParamFilter = {}): boolean {
  if (filter.excludeEmbeddings && name.includes("embed")) return false;
  if (filter.excludeHead && isHead(name)) return false;
  if (filter.onlyBiases && !name.includes("bias")) return false;
  return true;
}

/** Number of included parameter entries (the reference's logged `grad_dim`, zero-gradient ones included). */
export function gradDim(params: readonly ParamInfo[], filter: ParamFilter = {}): number {
  let n = 0;
  for (const p of params) if (includeParam(p.name, filter)) n += p.size;
  return n;
}
