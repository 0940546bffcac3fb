#!/usr/bin/env bash
# The quickstart on a GPU machine that has PyTorch 2.11.0 (CUDA) but no Rust toolchain: a
# prebuilt `graft` binary (built elsewhere against the CPU libtorch) runs against the CUDA
# install's torch/lib, after scripts/gpu-check.sh's doctor and training check.
#
#   scripts/gpu-quickstart.sh [path/to/graft] [run directory]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
graft=${1:-$repo/target/release/graft}
out=${2:-$repo/runs/quickstart-gpu}
python=${PYTHON:-python3}

STEPS=200 "$repo/scripts/gpu-check.sh" "$graft"
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "== the quickstart on cuda -> $out"
"$graft" --device cuda run "$repo/scripts/quickstart.rhai" --out "$out"
