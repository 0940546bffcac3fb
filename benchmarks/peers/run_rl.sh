#!/usr/bin/env bash
# RL training speed, Graft against Stable-Baselines3 2.9.2, in one shell run: PPO (100k steps)
# and DQN (50k steps) on CartPole-v1 with the RL Baselines3 Zoo's hyperparameters on both sides
# (Graft's `sb3_zoo_cartpole` presets), one libtorch/torch thread each, for each seed; then a
# table of wall-clock seconds, steps/s, deterministic evaluation returns and the speed ratio.
#
# Usage: benchmarks/peers/run_rl.sh [SEEDS...]   (default: 0 1 2)
#        THREADS=default benchmarks/peers/run_rl.sh ...   each library with its own default thread
#        count instead of one thread each (torch: all cores; graft: all cores)
# Env:   CARGO_TARGET_DIR (default: target); SB3_VENV (default: ~/.cache/graft/sb3-venv, made
#        here: a venv with stable-baselines3==2.9.2 over benchmarks/peers/.venv's torch and
#        gymnasium when that exists, else with CPU torch from the package index).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${SB3_VENV:-$HOME/.cache/graft/sb3-venv}"
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(0 1 2)

if [ ! -x "$venv/bin/python" ]; then
    peers="$root/benchmarks/peers/.venv"
    if [ -x "$peers/bin/python" ]; then
        "$peers/bin/python" -m venv "$venv"
        site="$("$peers/bin/python" -c 'import site; print(site.getsitepackages()[0])')"
        vsite="$("$venv/bin/python" -c 'import site; print(site.getsitepackages()[0])')"
        echo "$site" > "$vsite/peers.pth"
        "$venv/bin/pip" install -q --no-deps "stable-baselines3==2.9.2"
    else
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "stable-baselines3==2.9.2" "gymnasium==1.4.0"
    fi
fi

CARGO_TARGET_DIR="$target" cargo build -q --release --bin graft
graft="$target/release/graft"
out="$(mktemp -d)"
echo "== machine: $(nproc) cores, $(uname -sr), load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-4s %-5s %9s %10s %14s\n' system algo seed wall_s steps/s eval_return
# One thread each (the default), or each library's own default thread count.
if [ "${THREADS:-1}" = default ]; then
    sb3_threads=0
    graft_threads=()
else
    sb3_threads="${THREADS:-1}"
    graft_threads=(--threads "${THREADS:-1}")
fi
echo "== threads: ${THREADS:-1}"
for seed in "${seeds[@]}"; do
    for algo in ppo dqn; do
        sb3="$("$venv/bin/python" "$root/benchmarks/peers/sb3_rl.py" "$algo" "$seed" "$sb3_threads")"
        echo "$sb3" >> "$out/sb3.jsonl"
        line="$("$graft" "${graft_threads[@]}" --seed "$seed" rl train --algo "$algo" --env CartPole-v1 \
            --config sb3_zoo_cartpole --eval-every 0 --eval-episodes 10 --checkpoint-every 0 \
            --quiet --out "$out/graft-$algo-$seed")"
        python3 - "$sb3" "$line" "$algo" "$seed" <<'PY'
import json, re, sys
sb3, line, algo, seed = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = re.search(r"in ([0-9.]+)s \(([0-9]+) steps/s\).*return ([-0-9.]+) ± ([0-9.]+)", line)
wall, sps, ret, std = float(m[1]), float(m[2]), float(m[3]), float(m[4])
print(f"{'sb3':<6} {algo:<4} {seed:<5} {sb3['wall_s']:>9.1f} {sb3['steps_per_s']:>10.0f} {sb3['eval_mean']:>8.1f} ± {sb3['eval_std']:<5.1f}")
print(f"{'graft':<6} {algo:<4} {seed:<5} {wall:>9.1f} {sps:>10.0f} {ret:>8.1f} ± {std:<5.1f}   speed-up {sb3['wall_s'] / wall:.1f}x")
PY
    done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$out"
