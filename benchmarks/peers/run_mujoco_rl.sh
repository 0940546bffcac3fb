#!/usr/bin/env bash
# Off-policy MuJoCo RL, Graft against Stable-Baselines3 2.9.2, in one shell run so that the
# load of a shared machine falls on both sides alike: SAC then TD3 on a MuJoCo env
# (default HalfCheetah-v5; Gymnasium 1.4.0 / MuJoCo 3.17.0 on the SB3 side, Graft's own MuJoCo
# 3.17.0 env on the other), each with SB3 first and Graft second, same env, seed and budget,
# one torch/libtorch intra-op thread each, Graft's default hyperparameters (CleanRL's) on both
# sides as benchmarks/peers/sb3_mujoco.py maps them (its docstring lists what SB3 cannot
# follow). Then a table of wall-clock seconds, steps/s, deterministic evaluation returns (10
# episodes seeded SEED+1000003+e on both sides) and the SB3/Graft wall-time ratios.
#
# Two wall times per run: "wall_s" is each library's own figure (SB3: learn() alone; Graft: its
# "in Xs", which also covers building the networks and the final evaluation), "proc_s" is the
# whole process as this script times it (imports, construction, training, evaluation, and
# Graft's run-directory writes) — the like-for-like one.
#
# Usage: benchmarks/peers/run_mujoco_rl.sh STEPS SEED [ENV]
# Env:   GRAFT_BIN (default /tmp/graft-bench/graft; this script does not build),
#        SB3_VENV (default ~/.cache/graft/sb3-venv: stable-baselines3 2.9.2 over torch 2.11.0,
#        gymnasium 1.4.0, mujoco 3.17.0),
#        LEARNING_STARTS (default: each algorithm's own, SAC 5000 and TD3 25000; when set, both
#        algorithms on both sides start learning after this many random steps: Graft gets
#        --config '{"learning_starts":N}', SB3 learning_starts=N),
#        THREADS (default 1: intra-op threads on both sides),
#        ALGOS (default "sac td3").
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
fi
steps="$1"
seed="$2"
env_id="${3:-HalfCheetah-v5}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
graft="${GRAFT_BIN:-/tmp/graft-bench/graft}"
venv="${SB3_VENV:-$HOME/.cache/graft/sb3-venv}"
threads="${THREADS:-1}"
starts="${LEARNING_STARTS:-}"
read -r -a algos <<< "${ALGOS:-sac td3}"

[ -x "$graft" ] || { echo "no graft binary at $graft (set GRAFT_BIN)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || { echo "no SB3 venv at $venv (set SB3_VENV)" >&2; exit 1; }
for algo in "${algos[@]}"; do
    s="$starts"
    [ -z "$s" ] && { [ "$algo" = td3 ] && s=25000 || s=5000; }
    if [ "$steps" -le "$s" ]; then
        echo "$algo: STEPS ($steps) must exceed learning_starts ($s); set LEARNING_STARTS" >&2
        exit 1
    fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

echo "== machine: $(nproc) cores, $(uname -sr),$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== load before: $(cat /proc/loadavg)"
echo "== sb3: $("$venv/bin/python" -c 'import torch, stable_baselines3 as s, gymnasium as g, mujoco as m, numpy as n; print(f"torch {torch.__version__}, stable-baselines3 {s.__version__}, gymnasium {g.__version__}, mujoco {m.__version__}, numpy {n.__version__}")' 2>/dev/null)"
echo "== graft: $graft ($("$graft" --version 2>/dev/null || echo '?'))"
echo "== env $env_id, seed $seed, $steps steps, threads $threads, learning_starts ${starts:-algorithm default}"
script_t0="$(now)"

failed=0
check() {  # after a run: its stderr and stdout, and stop when it failed
    if [ "$failed" != 0 ]; then
        echo "$1 failed:" >&2
        cat "$tmp/$1.err" "$tmp/$1.out" >&2
        exit 1
    fi
}
for algo in "${algos[@]}"; do
    # ---- SB3 ----
    echo "-- $algo: sb3 (load $(cut -d' ' -f1-3 /proc/loadavg))"
    t0="$(now)"
    if [ -n "$starts" ]; then
        "$venv/bin/python" "$root/benchmarks/peers/sb3_mujoco.py" "$algo" "$env_id" "$seed" "$steps" \
            "$threads" "$starts" > "$tmp/sb3-$algo.out" 2> "$tmp/sb3-$algo.err" || failed=1
    else
        "$venv/bin/python" "$root/benchmarks/peers/sb3_mujoco.py" "$algo" "$env_id" "$seed" "$steps" \
            "$threads" > "$tmp/sb3-$algo.out" 2> "$tmp/sb3-$algo.err" || failed=1
    fi
    t1="$(now)"
    check "sb3-$algo"
    grep -v -e settotalmass -e '^$' "$tmp/sb3-$algo.err" | tail -5 || true
    tail -1 "$tmp/sb3-$algo.out"
    echo "sb3 $algo proc_s $(echo "$t1 - $t0" | bc)" >> "$tmp/proc"
    tail -1 "$tmp/sb3-$algo.out" > "$tmp/sb3-$algo.json"

    # ---- Graft ----
    echo "-- $algo: graft (load $(cut -d' ' -f1-3 /proc/loadavg))"
    if [ -n "$starts" ]; then config="{\"learning_starts\":$starts}"; else config=default; fi
    t0="$(now)"
    "$graft" --threads "$threads" --seed "$seed" rl train --algo "$algo" --env "$env_id" \
        --steps "$steps" --config "$config" --eval-every 0 --eval-episodes 10 \
        --checkpoint-every 0 --quiet --out "$tmp/graft-$algo" > "$tmp/graft-$algo.out" \
        2> "$tmp/graft-$algo.err" || failed=1
    t1="$(now)"
    check "graft-$algo"
    tail -5 "$tmp/graft-$algo.err"
    grep "final evaluation return" "$tmp/graft-$algo.out" | tail -1 | tee "$tmp/graft-$algo.line"
    echo "graft $algo proc_s $(echo "$t1 - $t0" | bc)" >> "$tmp/proc"
done

echo "== load after: $(cat /proc/loadavg)"
echo "== whole script: $(echo "$(now) - $script_t0" | bc | xargs printf '%.0f') s"
python3 - "$tmp" "${algos[@]}" <<'PY'
import json, re, sys
tmp, algos = sys.argv[1], sys.argv[2:]
proc = {}
for line in open(f"{tmp}/proc"):
    system, algo, _, secs = line.split()
    proc[(system, algo)] = float(secs)
print(f"{'system':<6} {'algo':<4} {'steps':>7} {'wall_s':>8} {'steps/s':>8} {'proc_s':>8} "
      f"{'eval return':>20}   {'SB3/Graft wall':>14} {'SB3/Graft proc':>14}")
for algo in algos:
    sb3 = json.load(open(f"{tmp}/sb3-{algo}.json"))
    line = open(f"{tmp}/graft-{algo}.line").read()
    m = re.search(r"(\d+) env steps in ([0-9.]+)s \(([0-9]+) steps/s\).*"
                  r"return ([-0-9.]+) ± ([0-9.]+)", line)
    steps, wall, sps, ret, std = int(m[1]), float(m[2]), float(m[3]), float(m[4]), float(m[5])
    sp, gp = proc[("sb3", algo)], proc[("graft", algo)]
    print(f"{'sb3':<6} {algo:<4} {sb3['steps']:>7} {sb3['wall_s']:>8.1f} {sb3['steps_per_s']:>8.1f} "
          f"{sp:>8.1f} {sb3['eval_mean']:>10.1f} ± {sb3['eval_std']:<7.1f}")
    print(f"{'graft':<6} {algo:<4} {steps:>7} {wall:>8.1f} {sps:>8.1f} {gp:>8.1f} "
          f"{ret:>10.1f} ± {std:<7.1f}   {sb3['wall_s'] / wall:>13.2f}x {sp / gp:>13.2f}x")
PY
