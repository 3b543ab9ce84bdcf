/**
 * GPU check (not a test; `scripts/gpu-check.sh` runs it): for every GPU execution provider that can create a
 * session here (cuda, webgpu), compare the small preset's label-word logits and its sgd / signgd kernels computed
 * with that provider's gradients against the cpu provider's, and time the engine benchmark on it. The last line
 * printed is one JSON object: { env, providers: { <device>: { parity, bench } }, ok }.
 *
 *   npx tsx scripts/gpu-check.ts [--tol 1e-4] [--skip-bench] [--devices cuda,webgpu]
 *
 * `--devices cpu` runs the comparison path against a second cpu run (a smoke check on a machine without a GPU).
 *
 * Parity is the largest absolute difference divided by the largest absolute value (relative to the array's scale,
 * as the kernel tests measure it). Sign kernels count sign agreements, so a gradient entry near 0 may flip between
 * providers; their tolerance is the same relative one, which a handful of flips in millions of entries meets.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectEnv } from "../src/cli/commands/env.ts";
import {
  computeKernels,
  createPromptModel,
  type Device,
  initModel,
  loadModel,
  modelFactorSource,
  probeProvider,
  releaseSessions,
} from "../src/index.ts";
import type { PromptInput } from "../src/model/types.ts";

const argv = process.argv.slice(2);
const tol = argv.includes("--tol") ? Number(argv[argv.indexOf("--tol") + 1]) : 1e-4;
const skipBench = argv.includes("--skip-bench");
const GPUS = (argv.includes("--devices") ? argv[argv.indexOf("--devices") + 1] : "cuda,webgpu").split(",") as Device[];

/** Random prompts over the model's vocabulary: `<s> … <mask> … </s>` of 8–24 tokens, seeded. */
function randomInputs(n: number, vocab: number, seed: number, maskId: number): PromptInput[] {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return Array.from({ length: n }, () => {
    const len = 8 + Math.floor(u() * 17);
    const ids = Array.from({ length: len }, () => 5 + Math.floor(u() * (vocab - 10)));
    ids[0] = 0;
    ids[len - 1] = 2;
    const maskPos = 1 + Math.floor(u() * (len - 2));
    ids[maskPos] = maskId;
    return { inputIds: ids, maskPos };
  });
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return scale === 0 ? err : err / scale;
}

async function outputs(dir: string, device: Device, train: PromptInput[], test: PromptInput[]) {
  const ckpt = await loadModel(dir);
  const labelWordIds = [7, 11];
  const model = createPromptModel(ckpt, labelWordIds, { device });
  const logits = await model.logits(test);
  const key = { weightsHash: `gpu-check-${device}`, labelWordIds, binary: false };
  const res = await computeKernels(
    modelFactorSource(model, train, key),
    { test: modelFactorSource(model, test, key) },
    { formulas: ["sgd", "signgd"] },
  );
  releaseSessions();
  const kernels: Record<string, Float64Array> = {};
  for (const [split, byName] of Object.entries(res.kernels))
    for (const [name, k] of Object.entries(byName)) if (k) kernels[`${name}.${split}`] = k;
  return { logits, kernels };
}

function bench(device: Device): unknown {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "bench-engine.ts"), "--device", device, "--reps", "3"],
    { encoding: "utf8" },
  );
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    return { error: `bench-engine exited ${r.status}: ${(r.stderr || last).trim().split("\n").at(-1)}` };
  }
}

const root = mkdtempSync(join(tmpdir(), "entk-gpu-check-"));
try {
  const dir = join(root, "small");
  const init = await initModel({ arch: "roberta", preset: "small", seed: 0, out: dir });
  const vocab = init.config.vocabSize;
  const train = randomInputs(8, vocab, 1, vocab - 1);
  const test = randomInputs(8, vocab, 2, vocab - 1);
  const cpu = await outputs(dir, "cpu", train, test);
  const providers: Record<string, unknown> = {};
  let ok = true;
  for (const device of GPUS) {
    const status = await probeProvider(device);
    if (!status.usable) {
      providers[device] = { usable: false, reason: status.reason };
      continue;
    }
    const gpu = await outputs(dir, device, train, test);
    const parity: Record<string, number> = { logits: relErr(gpu.logits, cpu.logits) };
    for (const [name, k] of Object.entries(cpu.kernels)) parity[name] = relErr(gpu.kernels[name], k);
    const pass = Object.values(parity).every((e) => e <= tol);
    ok &&= pass;
    providers[device] = { usable: true, parity, pass, bench: skipBench ? null : bench(device) };
  }
  const anyGpu = Object.values(providers).some((p) => (p as { usable: boolean }).usable);
  const env = await collectEnv();
  console.log(JSON.stringify({ env, tol, providers, ok: ok && anyGpu, gpu_found: anyGpu }));
  process.exitCode = ok && anyGpu ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
