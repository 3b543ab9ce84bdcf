import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { buildRoberta } from "./synthetic-bpe.ts";
import type { SyntheticTokenizerOptions } from "./synthetic-common.ts";
import { buildBert } from "./synthetic-wordpiece.ts";

export type { SyntheticTokenizerOptions } from "./synthetic-common.ts";
export { SYNTHETIC_PROMPT_WORDS } from "./synthetic-words.ts";

/**
 * The JSON text of `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json` for a small,
 * deterministic synthetic tokenizer (byte-level BPE for "roberta", WordPiece for "bert").
 */
export function buildTokenizerFiles(
  arch: "roberta" | "bert",
  opts: SyntheticTokenizerOptions = {},
): Record<string, string> {
  if (arch !== "roberta" && arch !== "bert")
    throw new Error(`unknown tokenizer arch ${JSON.stringify(arch)} (expected roberta or bert)`);
  const { tokenizer, config, specials } = arch === "roberta" ? buildRoberta(opts) : buildBert(opts);
  return {
    "tokenizer.json": `${JSON.stringify(tokenizer, null, 2)}\n`,
    "tokenizer_config.json": `${JSON.stringify(config, null, 2)}\n`,
    "special_tokens_map.json": `${JSON.stringify(specials, null, 2)}\n`,
  };
}

/** Write {@link buildTokenizerFiles} into `dir` (atomically, one file at a time). Returns the written paths. */
export async function writeTokenizerFiles(
  dir: string,
  arch: "roberta" | "bert",
  opts: SyntheticTokenizerOptions = {},
): Promise<string[]> {
  const files = buildTokenizerFiles(arch, opts);
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    await writeFileAtomic(p, text);
    paths.push(p);
  }
  return paths;
}
