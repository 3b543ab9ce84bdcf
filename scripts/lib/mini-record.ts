/**
 * `pretraining.json` of a packaged entk-mini (scripts/build-entk-mini.ts writes it beside the weights): everything
 * the model card states about how the weights were made — each stage's hyperparameters, tokens, wall time, start
 * and curve, the manifests of the corpora the stages read, the GloVe seeding — so that the card can be regenerated
 * from the shipped model, and a later stage packaged on top of it, after the pretraining run folders are gone
 * (they are large, machine-local and not committed). This module is the file's only reader and writer.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/util/atomic.ts";

export const RECORD_FILE = "pretraining.json";
const FORMAT = "entk-mini-pretraining/1";

/** What the card reads of a corpus's manifest.json (scripts/build-corpus.ts writes it). */
export interface CorpusManifest {
  sources: {
    id: string;
    package: string;
    version: string;
    licence: string;
    registry: string;
    bytes: number;
    sha256: string;
    repeat?: number;
  }[];
  totals: Record<string, number | string>;
  exclusion: Record<string, unknown>;
}

/** A corpus's identity: the sha256 of its training text. */
export const corpusKey = (m: CorpusManifest) => String(m.totals.trainSha256);

/** scripts/seed-embeddings.ts's `glove-seed.json`, when the first stage started from GloVe-seeded embeddings. */
export interface GloveSeed {
  package: string;
  licence: string;
  archive_md5: string;
  seeded_pieces: number;
  projection_seed: number;
}

/** A point of a stage's curve, as the card plots it (null: not measured at that point, e.g. train loss at 0). */
export interface RecordedPoint {
  step: number;
  /** Tokens since the stage started. */
  tokens: number;
  trainLoss: number | null;
  heldoutLoss: number | null;
  heldoutTop1: number | null;
}

/** One pretraining run (a stage) as the card describes it. */
export interface StageFacts {
  step: number;
  tokens: number;
  elapsedS: number;
  /** The run reached its last step (a stopped run is packaged as it stood). */
  finished: boolean;
  /** `entk pretrain`'s hyperparameters (its resume fingerprint's `hp`). */
  hp: Record<string, unknown>;
  dropout: number;
  /** The row norm when the stage started from scripts/sinusoidal-positions.ts's output. */
  sinusoidalNorm?: number;
  /** When the stage started from scripts/stack-layers.ts's output: new layer i is layer order[i] of the packaged
   * model, which had `layers` layers. */
  stacked?: { order: number[]; layers: number };
  /** The stage started from the previous stages packaged by build-entk-mini (float16), not from a run's own model. */
  packagedStart: boolean;
}

export interface StageRecord extends StageFacts {
  /** `corpusKey` of the corpus it read (one of the record's corpora). */
  corpus: string;
  curve: RecordedPoint[];
}

export interface PretrainingRecord {
  format: typeof FORMAT;
  seeded: GloveSeed | null;
  /** The corpora's manifests, in order of first use. */
  corpora: CorpusManifest[];
  stages: StageRecord[];
}

export function readRecord(dir: string): PretrainingRecord {
  const path = join(dir, RECORD_FILE);
  let r: PretrainingRecord;
  try {
    r = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: cannot read it (${(e as Error).message}); was ${dir} packaged by build-entk-mini?`);
  }
  if (r?.format !== FORMAT) throw new Error(`${path}: format ${JSON.stringify(r?.format)}, expected "${FORMAT}"`);
  if (!Array.isArray(r.stages) || r.stages.length === 0) throw new Error(`${path}: no stages`);
  const keys = new Set(r.corpora.map(corpusKey));
  r.stages.forEach((s, i) => {
    if (!keys.has(s.corpus)) throw new Error(`${path}: stage ${i + 1} read corpus ${s.corpus}, which is not listed`);
    if (!Array.isArray(s.curve) || s.curve.length === 0) throw new Error(`${path}: stage ${i + 1} has no curve`);
  });
  return r;
}

export async function writeRecord(dir: string, r: Omit<PretrainingRecord, "format">): Promise<void> {
  await writeFileAtomic(join(dir, RECORD_FILE), `${JSON.stringify({ format: FORMAT, ...r }, null, 1)}\n`);
}
