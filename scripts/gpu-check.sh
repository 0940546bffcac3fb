#!/usr/bin/env bash
# GPU check: run a prebuilt `graft` binary against a PyTorch 2.11.0 CUDA install on a machine
# with an NVIDIA GPU but no Rust toolchain.
#
#   scripts/gpu-check.sh [path/to/graft]        (default: target/release/graft)
#
# The binary was linked against Graft's CPU libtorch; pointing LD_LIBRARY_PATH at the CUDA
# install's torch/lib makes the loader take libtorch from there, and Graft loads
# libtorch_cuda.so from beside it at start-up. Prints `graft doctor` and a short GPU training
# smoke test (loss falling, time per step), then the same on CPU for comparison.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
graft=${1:-$repo/target/release/graft}
python=${PYTHON:-python3}
steps=${STEPS:-200}

[ -x "$graft" ] || { echo "gpu-check: no graft binary at $graft (build it with: cargo build --release)" >&2; exit 1; }
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') \
  || { echo "gpu-check: $python cannot import torch; install torch==2.11.0 (CUDA build)" >&2; exit 1; }
torch_version=$("$python" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())')
echo "== PyTorch: $torch_version; torch/lib: $torch_lib"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "== graft doctor"
"$graft" doctor
echo "== GPU training smoke test"
"$graft" --device cuda doctor --train-check --steps "$steps"
echo "== CPU training smoke test (same binary, same libtorch)"
"$graft" --device cpu doctor --train-check --steps 50
