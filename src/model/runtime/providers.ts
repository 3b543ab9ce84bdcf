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

/** Create a session with `device` and run it once; report success or the error text with a hint. */
export async function probeProvider(device: Device): Promise<ProviderStatus> {
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
    // ORT prefixes messages with its source location; keep the sentence a user can act on.
    const msg = (err instanceof Error ? err.message : String(err))
      .split("\n")[0]
      .replace(/^\/onnxruntime_src\/\S+ /, "");
    return { device, listed, usable: false, reason: `${msg}${HOW_TO[device] ? ` — ${HOW_TO[device]}` : ""}` };
  }
}

/** Default intra-op thread count: every core (MLAS scales well on GEMM-bound graphs). */
export function defaultThreads(): number {
  return availableParallelism();
}
