#!/usr/bin/env bash
# GPU check for entk on a Linux machine with an NVIDIA GPU and no network (README "GPU"). Run from the repository
# root after `npm ci` (and, for the CUDA provider, `ONNXRUNTIME_NODE_INSTALL=cuda12 node
# node_modules/onnxruntime-node/script/install` once on a machine with network, or node_modules carried from one:
# the repository's .npmrc skips that download by default). Prints progress on stderr and, last, one JSON line:
# entk env (versions, usable providers), and per GPU provider the parity of logits and kernels of the small preset
# against cpu (relative, tolerance 1e-4) and the engine benchmark on that provider.
#   bash scripts/gpu-check.sh [--tol 1e-4] [--skip-bench] [--devices cuda,webgpu]
set -uo pipefail
cd "$(dirname "$0")/.."
node_bin="$(command -v node || true)"
[ -z "$node_bin" ] && [ -x .node/bin/node ] && node_bin="$PWD/.node/bin/node" && export PATH="$PWD/.node/bin:$PATH"
if [ -z "$node_bin" ]; then
  echo '{"ok":false,"error":"node not found: install Node.js >= 20 or unpack its linux-x64 tarball into .node/"}'
  exit 1
fi
if [ ! -d node_modules/onnxruntime-node ]; then
  echo '{"ok":false,"error":"node_modules missing: run npm ci first (with network), or carry node_modules"}'
  exit 1
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
ls node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ >&2
# WebGPU needs the Vulkan loader; point Dawn at NVIDIA's ICD when the driver ships one.
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ] && export VK_DRIVER_FILES="$icd"
done
exec "$node_bin" --import tsx scripts/gpu-check.ts "$@"
