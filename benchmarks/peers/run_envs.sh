#!/usr/bin/env bash
# Environment throughput, Graft against its Python peers, in one shell run:
#   1. the criterion bench benchmarks/envs.rs (release),
#   2. benchmarks/peers/gymnasium_cartpole.py (gymnasium==1.4.0, EnvPool if it installs),
# then a table of steps/s with the ratios the targets are stated in.
#
# Usage: benchmarks/peers/run_envs.sh [extra criterion args]
# Env:   CARGO_TARGET_DIR (default: target), PYTHON (default: python3),
#        CRITERION_ARGS (default: "--warm-up-time 1 --measurement-time 3"),
#        PEER_ARGS (passed to the Python peer).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
venv="$root/benchmarks/peers/.venv"
python="${PYTHON:-python3}"

echo "== machine: $(nproc) cores, $(uname -sr), load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Python environment: pinned Gymnasium; EnvPool only if a wheel exists for this platform.
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q "gymnasium==1.4.0" numpy
if ! "$venv/bin/python" -c "import envpool" 2>/dev/null; then
    "$venv/bin/pip" install -q envpool 2>/dev/null || echo "# envpool not installable; skipped"
fi
# EnvPool must not have moved the Gymnasium pin.
"$venv/bin/pip" install -q "gymnasium==1.4.0"

echo "== criterion: cargo bench -p graft-envs --bench envs -- ${CRITERION_ARGS:---warm-up-time 1 --measurement-time 3} $*"
# shellcheck disable=SC2086
cargo bench -p graft-envs --bench envs -- ${CRITERION_ARGS:---warm-up-time 1 --measurement-time 3} "$@" 2>&1 \
    | grep -vE "^(Benchmarking|Found|  [0-9]+ \(|Warning|change:)" | grep -E "^[A-Za-z_]+/|time:|thrpt:|^error" || true

echo "== python peer: benchmarks/peers/gymnasium_cartpole.py ${PEER_ARGS:-}"
peer_out="$(mktemp)"
# shellcheck disable=SC2086
"$venv/bin/python" -W ignore benchmarks/peers/gymnasium_cartpole.py ${PEER_ARGS:-} | tee "$peer_out"

echo "== table (steps/s from criterion medians; ratios against the peers)"
"$venv/bin/python" - "$target/criterion" "$peer_out" "$(nproc)" <<'EOF'
import json, pathlib, sys

crit, peer_file, cores = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rust = {}
for est in crit.glob("**/new/estimates.json"):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    elements = (bench.get("throughput") or {}).get("Elements")
    if not elements:
        continue
    median_ns = json.loads(est.read_text())["median"]["point_estimate"]
    rust[bench["full_id"]] = elements / (median_ns * 1e-9)
peer = {}
for line in open(peer_file):
    if line.startswith("RESULT "):
        _, name, rate = line.split()
        peer[name] = float(rate)

def fmt(x):
    return f"{x / 1e6:10.3f} M/s" if x >= 1e5 else f"{x / 1e3:10.2f} K/s"

print(f"{'benchmark':45} {'Graft':>14}")
for name in sorted(rust):
    print(f"{name:45} {fmt(rust[name])}")
print()
for name, rate in peer.items():
    print(f"{'python/' + name:45} {fmt(rate)}")
print()

def ratio(label, ours, theirs, target=None):
    if ours in rust and theirs in peer:
        r = rust[ours] / peer[theirs]
        verdict = "" if target is None else ("  target >= %gx: %s" % (target, "met" if r >= target else "MISSED"))
        print(f"{label:60} {r:8.1f}x{verdict}")

ratio("single CartPole-v1 / gym.make loop", "single/CartPole-v1", "gym_make_loop", 300)
ratio("vector N=256 native (1 core) / CartPoleVectorEnv(256)",
      "vector_cartpole/native/256", "cartpole_vector_env_256", 20)
ratio("vector N=256 generic seq. (1 core) / CartPoleVectorEnv(256)",
      "vector_cartpole/sequential/256", "cartpole_vector_env_256")
if "vector_cartpole/threaded/256" in rust and "cartpole_vector_env_256" in peer:
    r = rust["vector_cartpole/threaded/256"] / cores / peer["cartpole_vector_env_256"]
    print(f"{'vector N=256 threaded, per core / CartPoleVectorEnv(256)':60} {r:8.1f}x")
ratio("vector N=256 native / EnvPool(256, 1 thread)",
      "vector_cartpole/native/256", "envpool_256_1thread")
EOF
rm -f "$peer_out"
