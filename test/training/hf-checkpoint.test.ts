import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initModel } from "../../src/model/init/init.ts";
import { loadWeightsFromDir } from "../../src/model/weights/checkpoint.ts";
import { writeTokenizerFiles } from "../../src/tokenizer/index.ts";
import { replaceCheckpoint } from "../../src/training/checkpoint-dir.ts";
import { hfCheckpointIO, materializeParams } from "../../src/training/hf-checkpoint.ts";

describe("hfCheckpointIO", () => {
  it("writes a Hugging Face directory that the weights loader and numpy read back exactly", async () => {
    const root = await mkdtemp(join(tmpdir(), "entk-hfck-"));
    const baseDir = join(root, "base");
    await mkdir(baseDir);
    await initModel({ arch: "roberta", preset: "tiny", seed: 4, out: baseDir, writeTokenizer: writeTokenizerFiles });
    const base = await loadWeightsFromDir(baseDir);
    const params = materializeParams(base);
    expect(params.has("lm_head.decoder.weight")).toBe(true);
    // "fine-tune": change every parameter
    let k = 0;
    for (const a of params.values()) for (let i = 0; i < a.length; i++) a[i] += 0.001 * ((k++ % 17) - 8);
    const io = hfCheckpointIO(base);
    const dir = join(root, "best");
    await replaceCheckpoint(io, dir, params);
    for (const f of ["config.json", "tokenizer.json", "model.safetensors"]) expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(readFileSync(join(baseDir, "config.json"), "utf8"));

    const back = await io.load(dir);
    expect([...back.keys()].sort()).toEqual([...params.keys()].sort());
    for (const [name, a] of params) expect(back.get(name)).toEqual(a);

    // a model that trains only some parameters still writes a complete checkpoint (the rest from the base)
    const some = new Map([...params].filter(([n]) => n.startsWith("lm_head.")));
    const partialDir = join(root, "partial");
    await replaceCheckpoint(io, partialDir, some);
    const partial = await io.load(partialDir);
    const baseVals = materializeParams(base);
    for (const [name, a] of partial) expect(a).toEqual(some.get(name) ?? baseVals.get(name));

    // independent reader: parse the safetensors header and data with numpy
    const name = "roberta.encoder.layer.0.attention.self.query.weight";
    const py = `
import json, struct, numpy as np
b = open('${join(dir, "model.safetensors")}', 'rb').read()
n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); e = h['${name}']
a = np.frombuffer(b[8+n+e['data_offsets'][0]:8+n+e['data_offsets'][1]], dtype='<f4').reshape(e['shape'])
print(json.dumps({'dtype': e['dtype'], 'shape': e['shape'], 'sum': float(a.astype(np.float64).sum()), 'n': len([k for k in h if k != '__metadata__'])}))
`;
    const got = JSON.parse(execFileSync("python3", ["-c", py]).toString());
    const ref = base.tensors.get(name)!;
    expect(got.dtype).toBe("F32");
    expect(got.shape).toEqual(ref.shape);
    expect(got.n).toBe(params.size);
    expect(got.sum).toBeCloseTo(
      Array.from(params.get(name)!).reduce((s, v) => s + v, 0),
      6,
    );
  });

  it("refuses parameters the base model does not have", async () => {
    const root = await mkdtemp(join(tmpdir(), "entk-hfck-"));
    await initModel({ arch: "bert", preset: "tiny", seed: 1, out: root, writeTokenizer: writeTokenizerFiles });
    const io = hfCheckpointIO(await loadWeightsFromDir(root));
    const out = join(root, "x");
    await mkdir(out);
    await expect(io.save(out, new Map([["nope.weight", new Float32Array(2)]]))).rejects.toThrow(
      /parameter 'nope\.weight' is not in the base model/,
    );
  });
});
