#!/usr/bin/env bash
# Build libgraft_c10d_nccl.so, the NCCL part of Graft's c10d shim (csrc/c10d_nccl.cpp), against
# a CUDA PyTorch 2.11.0 Python install: its torch/include, torch/lib and the nvidia-nccl and
# CUDA runtime header wheels it depends on. The library has no Rust in it; `graft` dlopens it
# for `--backend nccl` (see src/distributed/nccl.rs) from $GRAFT_NCCL_SHIM or from beside the
# executable, after loading libtorch_cuda.so.
#
# usage: scripts/build-nccl-shim.sh [PYTHON] [OUTPUT]
#   PYTHON  a python3 whose `torch` is 2.11.0+cuXXX (default: python3)
#   OUTPUT  where to write the library (default: target/release/libgraft_c10d_nccl.so)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
OUT=${2:-target/release/libgraft_c10d_nccl.so}
read -r TORCH VERSION CUDA < <("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__), torch.__version__, torch.version.cuda)')
case "$VERSION" in
  2.11.0*) ;;
  *) echo "build-nccl-shim: $PY has torch $VERSION; Graft needs 2.11.0" >&2; exit 1 ;;
esac
if [ "$CUDA" = "None" ] || [ ! -e "$TORCH/lib/libtorch_cuda.so" ]; then
  echo "build-nccl-shim: $PY's torch $VERSION is a CPU build (no libtorch_cuda.so)" >&2; exit 1
fi
SITE=$(dirname "$TORCH")
# NCCL's and the CUDA runtime's headers come with their wheels (nvidia-nccl-*, nvidia-cuda-*).
find_header() {
  local hit
  hit=$(find "$SITE/nvidia" -name "$1" -path '*/include/*' 2>/dev/null | head -n 1)
  if [ -z "$hit" ]; then
    echo "build-nccl-shim: $1 not found under $SITE/nvidia; install the CUDA wheels torch depends on" >&2
    exit 1
  fi
  dirname "$hit"
}
NCCL_INC=$(find_header nccl.h)
CUDA_INC=$(find_header cuda_runtime_api.h)
# cuda_runtime.h also needs crt/ and CCCL's nv/target, which the runtime wheel leaves out:
# take them from a CUDA toolkit ($CUDA_HOME) or the installed nvidia-cuda-crt/-cccl wheels,
# else fetch those two header-only wheels (same CUDA major.minor as the runtime) into a cache.
has_headers() { [ -e "$1/crt/host_config.h" ] && [ -e "$1/nv/target" ]; }
EXTRA_INC=""
for dir in "${CUDA_HOME:-/usr/local/cuda}/include" "$CUDA_INC"; do
  if has_headers "$dir"; then EXTRA_INC=$dir; break; fi
done
if [ -z "$EXTRA_INC" ]; then
  RUNTIME=$("$PY" -c 'import importlib.metadata as m; print(m.version("nvidia-cuda-runtime"))')
  MM=$(echo "$RUNTIME" | cut -d. -f1,2)
  CACHE=${GRAFT_HOME:-$HOME/.cache/graft}/cuda-headers-$MM
  if [ ! -e "$CACHE/.complete" ]; then
    rm -rf "$CACHE" && mkdir -p "$CACHE/wheels"
    "$PY" -m pip download --quiet --no-deps --only-binary :all: -d "$CACHE/wheels" \
      "nvidia-cuda-crt==$MM.*" "nvidia-cuda-cccl==$MM.*"
    for w in "$CACHE"/wheels/*.whl; do "$PY" -m zipfile -e "$w" "$CACHE/"; done
    touch "$CACHE/.complete"
  fi
  EXTRA_INC=$(dirname "$(dirname "$(find "$CACHE" -path '*/crt/host_config.h' | head -n 1)")")
  has_headers "$EXTRA_INC" || { echo "build-nccl-shim: CUDA headers incomplete in $CACHE" >&2; exit 1; }
fi
mkdir -p "$(dirname "$OUT")"
${CXX:-g++} -std=c++17 -O2 -fPIC -shared -w \
  -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_NCCL -DUSE_CUDA \
  -I csrc -I "$TORCH/include" -I "$TORCH/include/torch/csrc/api/include" \
  -I "$NCCL_INC" -I "$CUDA_INC" -idirafter "$EXTRA_INC" \
  csrc/c10d_nccl.cpp -o "$OUT" \
  -L "$TORCH/lib" -ltorch_cuda -ltorch_cpu -lc10_cuda -lc10
echo "built $OUT (torch $VERSION, CUDA $CUDA)"
