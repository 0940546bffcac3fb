#!/usr/bin/env bash
# NCCL smoke test of Graft's data-parallel training on a machine with NVIDIA GPUs and a CUDA
# PyTorch 2.11.0 install but no Rust toolchain (the lent GPU machines): the prebuilt `graft`
# (linked against the CPU libtorch) and `libgraft_c10d_nccl.so` (built here with
# scripts/build-nccl-shim.sh) are carried there together.
#
#   scripts/nccl-check.sh [path/to/graft] [path/to/libgraft_c10d_nccl.so]
#       defaults: target/release/graft and the .so beside it
#
# Runs `graft dist check --backend nccl` with one process per visible GPU, then the same with
# Gloo on CPU, and compares their losses (same data, same steps: they should agree to float
# rounding). With one GPU, NCCL runs a one-rank group: rendezvous, broadcast and all-reduce go
# through NCCL, without traffic between GPUs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
graft=${1:-$repo/target/release/graft}
shim=${2:-$(dirname "$graft")/libgraft_c10d_nccl.so}
python=${PYTHON:-python3}
steps=${STEPS:-50}

[ -x "$graft" ] || { echo "nccl-check: no graft binary at $graft" >&2; exit 1; }
[ -f "$shim" ] || { echo "nccl-check: no NCCL shim at $shim (scripts/build-nccl-shim.sh builds it)" >&2; exit 1; }
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') \
  || { echo "nccl-check: $python cannot import torch; install torch==2.11.0 (CUDA build)" >&2; exit 1; }
gpus=$("$python" -c 'import torch; print(torch.cuda.device_count())')
[ "$gpus" -ge 1 ] || { echo "nccl-check: no CUDA device visible" >&2; exit 1; }
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GRAFT_NCCL_SHIM="$shim" GRAFT_DIST_TIMEOUT_SECS=${GRAFT_DIST_TIMEOUT_SECS:-120}
echo "== NCCL: $gpus process(es), one GPU each"
"$graft" launch --nproc "$gpus" -- dist check --backend nccl --steps "$steps" | tee /tmp/nccl-check.out
echo "== Gloo on CPU: same job"
"$graft" launch --nproc "$gpus" -- --threads 1 dist check --steps "$steps" | tee /tmp/gloo-check.out
loss() { sed -n 's/.*loss \([0-9.]*\) -> \([0-9.]*\).*/\1 \2/p' "$1"; }
echo "== losses (first, last): nccl $(loss /tmp/nccl-check.out), gloo $(loss /tmp/gloo-check.out)"
