/**
 * Counting the GEMM FLOPs a process runs on onnxruntime, independently of entk's cost model: every session created
 * while `countOrtFlops` is active gets onnxruntime's own profiler, and each MatMul / FusedMatMul / Gemm node event
 * of the profiles is counted from the shapes onnxruntime recorded: 2 × (output elements) × K, with K the inner
 * dimension read off the first input (its last two dims hold M·K whether or not it is transposed).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";

const GEMMS = new Set(["MatMul", "FusedMatMul", "Gemm"]);

/** What a session's graph is, from its ONNX bytes: entk's contraction graphs are named `entk_*_contract`. */
function graphKind(model: unknown): string {
  const bytes = typeof model === "string" ? readFileSync(model) : model;
  if (!(bytes instanceof Uint8Array)) return "unknown";
  const g = onnxProto.onnx.ModelProto.decode(bytes).graph;
  if (g?.name?.includes("contract")) return "contraction";
  const outs = (g?.output ?? []).map((o) => o.name ?? "");
  return outs.length === 1 ? "forward" : "backward";
}

export interface FlopCounter {
  /** End profiling and return FLOPs per graph kind ("contraction", "forward", "backward"). */
  stop(): Record<string, number>;
}

const size = (d: number[]) => d.reduce((a, b) => a * b, 1);

export function countOrtFlops(): FlopCounter {
  const dir = mkdtempSync(join(tmpdir(), "entk-ort-profile-"));
  const S = ort.InferenceSession as unknown as { create: (...a: unknown[]) => Promise<ort.InferenceSession> };
  const orig = S.create;
  const created: { s: ort.InferenceSession; kind: string }[] = [];
  let n = 0;
  S.create = async (model: unknown, opts?: unknown) => {
    const kind = graphKind(model);
    const prefix = join(dir, `${kind}-${n++}`);
    const s = await orig.call(ort.InferenceSession, model, {
      ...(opts ?? {}),
      enableProfiling: true,
      profileFilePrefix: prefix,
    });
    created.push({ s, kind });
    return s;
  };
  return {
    stop() {
      S.create = orig;
      for (const { s } of created)
        try {
          s.endProfiling();
        } catch {
          // released sessions wrote their profile when they were released
        }
      const out: Record<string, number> = {};
      for (const f of readdirSync(dir)) {
        const kind = f.split("-")[0];
        for (const e of JSON.parse(readFileSync(join(dir, f), "utf8"))) {
          if (e.cat !== "Node" || !GEMMS.has(e.args?.op_name) || !String(e.name).endsWith("_kernel_time")) continue;
          const a = Object.values(e.args.input_type_shape[0])[0] as number[];
          const o = Object.values(e.args.output_type_shape[0])[0] as number[];
          const M = o.length >= 2 ? o[o.length - 2] : 1;
          const K = (a[a.length - 1] * (a.length >= 2 ? a[a.length - 2] : 1)) / M;
          out[kind] = (out[kind] ?? 0) + 2 * size(o) * K;
        }
      }
      rmSync(dir, { recursive: true, force: true });
      return out;
    },
  };
}
