import { bytesToUnicode } from "../tokenizer/byte-level.ts";
import type { EntkTokenizer } from "../tokenizer/types.ts";

let byteOf: Map<string, number> | undefined;

/** Token ids back to readable text for display: byte-level BPE symbols decoded to UTF-8, WordPiece `##` joined. */
export function decodeForDisplay(tok: EntkTokenizer, ids: readonly number[]): string {
  const special = new Set([tok.clsId, tok.sepId, tok.maskId, tok.padId, tok.unkId]);
  if (tok.kind === "wordpiece") {
    return ids
      .map((id) => tok.idToToken(id) ?? `[${id}]`)
      .join(" ")
      .replaceAll(" ##", "");
  }
  byteOf ??= new Map(bytesToUnicode().map((s, b) => [s, b]));
  let out = "";
  let bytes: number[] = [];
  const flush = () => {
    out += Buffer.from(bytes).toString("utf8");
    bytes = [];
  };
  for (const id of ids) {
    const t = tok.idToToken(id) ?? `[${id}]`;
    const bs = special.has(id) ? undefined : [...t].map((c) => byteOf?.get(c));
    if (!bs || bs.some((b) => b === undefined)) {
      flush();
      out += t;
    } else bytes.push(...(bs as number[]));
  }
  flush();
  return out;
}
