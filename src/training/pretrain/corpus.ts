/**
 * Pretraining text as one token stream, cached: each file holds one document per line (blank lines skipped,
 * whitespace runs collapsed), each document tokenized on its own, and documents joined with </s> (RoBERTa's
 * FULL-SENTENCES packing: sequences cross document and file boundaries, marked by the separator). The stream is
 * stored as uint16 ids (vocabularies < 65,536) beside a JSON key (files' size and mtime, tokenizer hash), so a rerun or
 * a resumed run tokenizes nothing.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { EntkTokenizer } from "../../tokenizer/types.ts";
import { writeFileAtomic } from "../../util/atomic.ts";

export interface TokenStream {
  ids: Uint16Array;
  /** Characters of text tokenized. */
  chars: number;
}

function cacheKey(files: string[], tokenizerHash: string): string {
  const parts = files.map((f) => {
    const st = statSync(f);
    return `${resolve(f)}|${st.size}|${st.mtimeMs}`;
  });
  return createHash("sha256")
    .update(JSON.stringify({ parts, tokenizerHash, v: 1 }))
    .digest("hex");
}

/** The documents of a text: its non-blank lines, whitespace runs collapsed to one space. */
export function documents(text: string): string[] {
  return text
    .split("\n")
    .map((p) => p.replace(/\s+/g, " ").trim())
    .filter((p) => p.length > 0);
}

/**
 * The token stream of `files` (cached at `cachePath` + `.u16` / `.json`). `onProgress(doneChars, totalChars)` is
 * called while tokenizing.
 */
export async function tokenStream(
  files: string[],
  tok: EntkTokenizer,
  tokenizerHash: string,
  cachePath: string,
  onProgress?: (done: number, total: number) => void,
): Promise<TokenStream> {
  if (files.length === 0) throw new Error("no corpus files given");
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: corpus file not found`);
  if (tok.vocabSize > 65536) throw new Error(`tokenizer has ${tok.vocabSize} ids; the token cache holds < 65,536`);
  const key = cacheKey(files, tokenizerHash);
  const metaPath = `${cachePath}.json`;
  const binPath = `${cachePath}.u16`;
  if (existsSync(metaPath) && existsSync(binPath)) {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { key: string; tokens: number; chars: number };
    const buf = readFileSync(binPath);
    if (meta.key === key && buf.byteLength === meta.tokens * 2)
      return { ids: new Uint16Array(buf.buffer, buf.byteOffset, meta.tokens), chars: meta.chars };
  }
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  let done = 0;
  let out = new Uint16Array(1 << 20);
  let n = 0;
  const push = (id: number) => {
    if (n === out.length) {
      const bigger = new Uint16Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out[n++] = id;
  };
  let chars = 0;
  for (const f of files) {
    for (const p of documents(await readFile(f, "utf8"))) {
      if (n > 0) push(tok.sepId);
      for (const id of tok.encode(p)) push(id);
      chars += p.length;
      done += Buffer.byteLength(p) + 1;
      onProgress?.(Math.min(done, total), total);
    }
  }
  const ids = out.slice(0, n);
  await writeFileAtomic(binPath, new Uint8Array(ids.buffer));
  await writeFileAtomic(
    metaPath,
    `${JSON.stringify({ key, tokens: n, chars, files: files.map((f) => resolve(f)) })}\n`,
  );
  return { ids, chars };
}

/**
 * Packed sequences of `seqLen` ids: window w is <s> + stream[w·(seqLen−2), (w+1)·(seqLen−2)) + </s>.
 */
export class PackedWindows {
  readonly count: number;
  readonly body: number;
  constructor(
    private readonly stream: Uint16Array,
    readonly seqLen: number,
    private readonly cls: number,
    private readonly sep: number,
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 3) throw new Error(`sequence length must be ≥ 3, got ${seqLen}`);
    this.body = seqLen - 2;
    this.count = Math.floor(stream.length / this.body);
    if (this.count < 1) throw new Error(`corpus has ${stream.length} tokens, fewer than one sequence of ${seqLen}`);
  }
  /** Copy window `w` into `dst` at `at`. */
  write(w: number, dst: Int32Array, at: number): void {
    dst[at] = this.cls;
    const src = this.stream.subarray(w * this.body, (w + 1) * this.body);
    for (let i = 0; i < this.body; i++) dst[at + 1 + i] = src[i];
    dst[at + this.seqLen - 1] = this.sep;
  }
}
