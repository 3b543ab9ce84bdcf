import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { MODEL_HEADER } from "../graph/graph.ts";

/** The execution providers entk knows how to select with `--device`. */
export const DEVICES = ["cpu", "cuda", "webgpu"] as const;
export type Device = (typeof DEVICES)[number];

/** The provider used when none is asked for. */
export const DEFAULT_DEVICE: Device = "cpu";

export interface ProviderStatus {
  device: Device;
  /** ORT was built with / ships this provider (`bundled`) or can load it as a separate library. */
  listed: boolean;
  /** A session with this provider could actually be created here. */
  usable: boolean;
  /** Why it is not usable, and how to get it. */
  reason?: string;
}

const HOW_TO: Record<Device, string> = {
  cpu: "",
  cuda: "fetch the CUDA provider once, with network: `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` (needs an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries)",
  webgpu: "needs a GPU with a Vulkan driver that Dawn accepts",
};

const { onnx } = onnxProto;

/** A one-node Identity model: the smallest graph that proves a provider can create a session and run. */
function probeModel(): Uint8Array {
  const tensorType = { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } };
  const model = onnx.ModelProto.create({
    ...MODEL_HEADER,
    graph: {
      name: "probe",
      node: [{ opType: "Identity", input: ["x"], output: ["y"] }],
      input: [{ name: "x", type: { tensorType } }],
      output: [{ name: "y", type: { tensorType } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * ORT prefixes messages with its source location, and failed checks with the C++ function and condition
 * ("…::<lambda()> status == Success was false. "); keep the sentence a user can act on.
 */
function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err))
    .split("\n")[0]
    .replace(/^\/onnxruntime_src\/\S+ /, "")
    .replace(/^\S*::.* was false\. (?=\S)/, "");
}

/**
 * The probe run in a child process (CommonJS, `node -e`): argv = [ORT module path, device, model as base64]; prints
 * `{listed, usable, message?}` as one JSON line. Loading a GPU provider can write to the process's stderr from
 * native code (Dawn's "Couldn't load Vulkan … at operator() (BackendVk.cpp:368)", ORT's default logger on a missing
 * provider library) before any JavaScript error is raised; in a child that output is captured, not shown.
 */
const CHILD_PROBE = `
const [ortPath, device, b64] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
(async () => {
  const ort = require(ortPath);
  const listed = ort.listSupportedBackends().some((b) => b.name === device);
  try {
    const s = await ort.InferenceSession.create(Buffer.from(b64, "base64"), { executionProviders: [device], logSeverityLevel: 4 });
    await s.run({ x: new ort.Tensor("float32", new Float32Array([1]), [1]) });
    await s.release();
    out({ listed, usable: true });
  } catch (e) {
    out({ listed, usable: false, message: String(e && e.message ? e.message : e) });
  }
})().catch((e) => out({ listed: false, usable: false, message: String(e && e.message ? e.message : e) }));
`;

/** How long a provider probe may take (GPU driver initialization included) before it counts as unusable. */
const PROBE_TIMEOUT_MS = 120_000;

function probeInChild(device: Device): Promise<{ listed: boolean; usable: boolean; message?: string; stderr: string }> {
  const ortPath = createRequire(import.meta.url).resolve("onnxruntime-node");
  const b64 = Buffer.from(probeModel()).toString("base64");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", CHILD_PROBE, ortPath, device, b64],
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 16 << 20, encoding: "utf8" },
      (err, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          return resolve({ ...JSON.parse(line), stderr });
        } catch {
          const why = err?.killed
            ? `the provider probe did not finish within ${PROBE_TIMEOUT_MS / 1000} s`
            : `the provider probe exited ${err?.signal ? `on signal ${err.signal}` : `with code ${err?.code ?? "?"}`}`;
          resolve({ listed: false, usable: false, message: why, stderr });
        }
      },
    );
  });
}

/**
 * Create a session with `device` and run it once; report success or the error text with a hint. The CPU provider
 * is probed in this process; any other in a child process (a fraction of a second), so that what its native
 * libraries print while failing never reaches the user's terminal — only the one-line reason does.
 */
export async function probeProvider(device: Device): Promise<ProviderStatus> {
  if (device !== "cpu") {
    const r = await probeInChild(device);
    if (r.usable) return { device, listed: r.listed, usable: true };
    // Dawn names the missing Vulkan loader only on stderr; keep that one fact, drop its source location.
    const vulkan = /Couldn't load Vulkan: ([^\n]*)/.exec(r.stderr)?.[1];
    const msg = `${firstLine(r.message)}${vulkan ? ` (Vulkan: ${vulkan.trim()})` : ""}`;
    return { device, listed: r.listed, usable: false, reason: `${msg}${HOW_TO[device] ? ` — ${HOW_TO[device]}` : ""}` };
  }
  const listed = ort.listSupportedBackends().some((b) => b.name === device);
  try {
    const session = await ort.InferenceSession.create(probeModel(), {
      executionProviders: [device],
      logSeverityLevel: 4,
    });
    await session.run({ x: new ort.Tensor("float32", new Float32Array([1]), [1]) });
    await session.release();
    return { device, listed, usable: true };
  } catch (err) {
    return { device, listed, usable: false, reason: firstLine(err) };
  }
}

/** Default intra-op thread count: every core (MLAS scales well on GEMM-bound graphs). */
export function defaultThreads(): number {
  return availableParallelism();
}
