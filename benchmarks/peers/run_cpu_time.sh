#!/usr/bin/env bash
# Thread CPU time per step, Graft against its Python peers, in one shell run: the
# load-independent counterpart of run_envs.sh / run_minatar.sh, whose wall-clock ratios swing
# with the load of the shared machine (each side gets a different share of a core).
#   1. benchmarks/peers/cpu_time_peers.py: gymnasium 1.4.0's gym.make("CartPole-v1") loop and
#      minatar 1.0.15's act + state loop (Young & Tian 2019), best of REPEATS runs of STEPS steps;
#   2. the step_cpu example: the same loops through graft_envs::make (Box<dyn Env>, step_into,
#      reset on done), best of GRAFT_REPEATS runs of GRAFT_STEPS steps;
# then the ratios. Both sides time CLOCK_THREAD_CPUTIME_ID.
#
# Usage: benchmarks/peers/run_cpu_time.sh
# Env:   CARGO_TARGET_DIR (default: target), STEPS (40960), REPEATS (7),
#        GRAFT_STEPS (1000000), GRAFT_REPEATS (15).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$root/benchmarks/peers/.venv"

echo "== machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo build -q --release -p graft-envs --example step_cpu
py_out="$(mktemp)"
echo "== python: cpu_time_peers.py ${STEPS:-40960} ${REPEATS:-7}"
"$venv/bin/python" -W ignore benchmarks/peers/cpu_time_peers.py "${STEPS:-40960}" "${REPEATS:-7}" \
    | tee "$py_out"
echo "== graft: step_cpu <id> ${GRAFT_STEPS:-1000000} ${GRAFT_REPEATS:-15}"
rs_out="$(mktemp)"
for id in CartPole-v1 MinAtar/Breakout-v1 MinAtar/Asterix-v1 MinAtar/Freeway-v1 \
    MinAtar/Seaquest-v1 MinAtar/SpaceInvaders-v1; do
    "$target/release/examples/step_cpu" "$id" "${GRAFT_STEPS:-1000000}" "${GRAFT_REPEATS:-15}" \
        | tee -a "$rs_out"
done
echo "== ratios (Python ns / Graft ns per step), load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
    FNR == NR { sub(/ \(gym.make\)/, ""); sub(/:$/, "", $1); py[$1] = $2; next }
    { sub(/:$/, "", $1); if ($1 in py) printf "%-28s %9.0f / %6.2f = %6.1fx\n", $1, py[$1], $2, py[$1] / $2 }
' "$py_out" "$rs_out"
rm -f "$py_out" "$rs_out"
