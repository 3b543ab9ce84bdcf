import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseSessions } from "../../../src/model/runtime/session.ts";
import { writeTokenizerFiles } from "../../../src/tokenizer/index.ts";
import { documents, PackedWindows, tokenStream } from "../../../src/training/pretrain/corpus.ts";
import { PRETRAIN_DEFAULTS, readCurve, runPretrain } from "../../../src/training/pretrain/pretrain.ts";
import {
  type PretrainStart,
  pretrainCorpus,
  pretrainStart,
  tokenizerHash,
} from "../../../src/training/pretrain/setup.ts";
import { Rng } from "../../../src/training/rng.ts";

let dir: string;
let start: PretrainStart;
let corpus: Awaited<ReturnType<typeof pretrainCorpus>>;

/** Text with structure a tiny model learns in a few steps: templated sentences over a few words. */
function text(seed: number, lines: number): string {
  const rng = new Rng(seed);
  const subj = ["The movie", "This film", "The story", "It"];
  const adj = ["great", "good", "bad", "terrible", "okay"];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const s = subj[rng.nextBelow(subj.length)];
    const a = adj[rng.nextBelow(adj.length)];
    out.push(`${s} was ${a}. It is ${a}, and the people like it. What a ${a} story it was.`);
  }
  return `${out.join("\n")}\n`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "entk-pretrain-"));
  const tok = join(dir, "tok");
  await writeTokenizerFiles(tok, "roberta");
  writeFileSync(join(dir, "train.txt"), text(1, 300));
  writeFileSync(join(dir, "held.txt"), text(2, 40));
  start = await pretrainStart({
    init: { hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 40 },
    tokenizerDir: tok,
    seed: 3,
    out: join(dir, "base"),
  });
  corpus = await pretrainCorpus(
    start,
    { train: [join(dir, "train.txt")], heldout: [join(dir, "held.txt")] },
    join(dir, "base"),
    true,
  );
});
afterAll(async () => {
  await releaseSessions();
  rmSync(dir, { recursive: true, force: true });
});

const hp = (over: Partial<typeof PRETRAIN_DEFAULTS> = {}) => ({
  ...PRETRAIN_DEFAULTS,
  seqLen: 32,
  batchSize: 4,
  accumulate: 2,
  steps: 30,
  lr: 1e-2,
  warmupSteps: 3,
  seed: 11,
  ...over,
});

function run(out: string, over: Partial<typeof PRETRAIN_DEFAULTS> = {}, extra = {}) {
  return runPretrain({
    ...hp(over),
    weights: start.weights,
    tokenizer: start.tokenizer,
    train: corpus.train.ids,
    heldout: corpus.heldout.ids,
    out,
    evalEvery: 10,
    evalSequences: 8,
    snapshotEvery: 5,
    threads: 1,
    quiet: true,
    ...extra,
  });
}

describe("entk pretrain (tiny model)", () => {
  it("a 30-step run lowers the held-out MLM loss and raises top-1; writes curve, model and result", async () => {
    const out = join(dir, "run30");
    const r = await run(out);
    const curve = readCurve(join(out, "curve.jsonl"));
    expect(curve.map((p) => p.step)).toEqual([0, 10, 20, 30]);
    expect(curve[0].heldoutLoss).toBeGreaterThan(Math.log(start.tokenizer.vocabSize) - 0.5);
    expect(curve[3].heldoutLoss).toBeLessThan(curve[0].heldoutLoss - 2);
    expect(curve[2].heldoutLoss).toBeLessThan(curve[1].heldoutLoss);
    expect(curve[3].heldoutTop1).toBeGreaterThan(curve[0].heldoutTop1);
    expect(r.tokens).toBe(30 * 2 * 4 * 32);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8")).steps).toBe(30);
    expect(readFileSync(join(out, "model", "config.json"), "utf8")).toContain('"hidden_size": 16');
  });

  it("a run stopped and resumed from state.snap ends with the same weights and curve as an uninterrupted one", async () => {
    const a = join(dir, "whole");
    const b = join(dir, "split");
    await run(a, { steps: 20 });
    const ac = new AbortController();
    // Stop after step 7 (the signal is read before each step): the snapshot is written at the stop.
    await expect(
      run(
        b,
        { steps: 20 },
        { signal: ac.signal, logEvery: 7, log: (l: string) => l.startsWith("step 7/") && ac.abort() },
      ),
    ).rejects.toThrow(/stopped at step 7\/20/);
    await run(b, { steps: 20 });
    const bytes = (d: string) => readFileSync(join(d, "model", "model.safetensors"));
    expect(bytes(b).equals(bytes(a))).toBe(true);
    const strip = (d: string) => readCurve(join(d, "curve.jsonl")).map(({ elapsedS: _, ...p }) => p);
    expect(strip(b)).toEqual(strip(a));
    // Rerunning a finished run recomputes nothing and returns its result.
    const again = await run(b, { steps: 20 });
    expect(again.steps).toBe(20);
    expect(strip(b)).toEqual(strip(a));
  });

  it("refuses a snapshot of other settings unless --fresh", async () => {
    const out = join(dir, "other");
    await run(out, { steps: 5 });
    await expect(run(out, { steps: 6 })).rejects.toThrow(/other settings/);
    const r = await run(out, { steps: 6 }, { fresh: true });
    expect(r.steps).toBe(6);
  });
});

describe("corpus packing", () => {
  it("documents are lines; the stream joins them with </s>; windows are <s> … </s>", async () => {
    expect(documents("a  b\n\n c\n")).toEqual(["a b", "c"]);
    const f = join(dir, "two.txt");
    writeFileSync(f, "It was great.\nIt was bad.\n");
    const tok = start.tokenizer;
    const s = await tokenStream([f], tok, tokenizerHash(start.tokenizerDir), join(dir, "cache-two"));
    expect(Array.from(s.ids)).toEqual([...tok.encode("It was great."), tok.sepId, ...tok.encode("It was bad.")]);
    // A second call reads the cache (same ids).
    const again = await tokenStream([f], tok, tokenizerHash(start.tokenizerDir), join(dir, "cache-two"));
    expect(Array.from(again.ids)).toEqual(Array.from(s.ids));
    const w = new PackedWindows(s.ids, 5, tok.clsId, tok.sepId);
    const row = new Int32Array(5);
    w.write(1, row, 0);
    expect(Array.from(row)).toEqual([tok.clsId, ...Array.from(s.ids.subarray(3, 6)), tok.sepId]);
  });
});
