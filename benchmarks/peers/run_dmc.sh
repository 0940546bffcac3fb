#!/usr/bin/env bash
# DeepMind Control Suite throughput (issue #22, item 5), Graft against dm_control 1.0.50 on
# the same MuJoCo 3.17.0, in one shell run, in alternating rounds (Graft then dm_control,
# dm_control then Graft, ...) so that the load of a shared machine falls on both alike:
#   A. the criterion bench benchmarks/dmc.rs (release): env.step on state; 84x84 frames at
#      dm_control's picture and with each cost taken away in turn (the breakdown);
#   B. benchmarks/peers/dmc_peer.py: dm_control's env.step and physics.render(84, 84, camera).
# Then a table of medians over the rounds and the ratios.
#
# Usage: benchmarks/peers/run_dmc.sh [rounds (default 3)]
# Env:   CARGO_TARGET_DIR (default: target), PYTHON (default: python3), VENV (default:
#        benchmarks/peers/.venv), CRITERION_ARGS (default: "--warm-up-time 0.5
#        --measurement-time 2 --sample-size 10").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
rounds="${1:-3}"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
venv="${VENV:-$root/benchmarks/peers/.venv}"
python="${PYTHON:-python3}"
crit_args="${CRITERION_ARGS:---warm-up-time 0.5 --measurement-time 2 --sample-size 10}"
export MUJOCO_GL=egl

echo "== machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== load before: $(cat /proc/loadavg)"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q "dm-control==1.0.50" "mujoco==3.17.0" numpy
"$venv/bin/python" -c "import dm_control, mujoco; print('== python: dm_control 1.0.50, mujoco', mujoco.__version__)"

echo "== build: cargo bench -p graft-envs --bench dmc --no-run"
cargo bench -q -p graft-envs --bench dmc --no-run 2>&1 | grep -E "^error" || true

out="$(mktemp -d)"
graft_round() {
    rm -rf "$target"/criterion/dmc_*
    # shellcheck disable=SC2086
    cargo bench -q -p graft-envs --bench dmc -- $crit_args >/dev/null 2>&1
    "$venv/bin/python" - "$target/criterion" >>"$out/graft" <<'PY'
import json, pathlib, sys
for est in sorted(pathlib.Path(sys.argv[1]).glob("dmc_*/**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    per_iter_ns = json.loads(est.read_text())["median"]["point_estimate"]
    elements = bench["throughput"]["Elements"]
    kind = bench["group_id"].removeprefix("dmc_")
    name = bench["function_id"] or ""
    value = bench.get("value_str") or ""
    label = "/".join(part for part in (kind, name, value) if part)
    print(f"RESULT graft/{label} {elements / per_iter_ns * 1e9:.2f}")
PY
}
peer_round() {
    "$venv/bin/python" benchmarks/peers/dmc_peer.py >>"$out/peer"
}
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then graft_round; peer_round; else peer_round; graft_round; fi
    echo "== round $r done, load $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "== load after: $(cat /proc/loadavg)"
echo "== raw figures: $out"
"$venv/bin/python" - "$out/graft" "$out/peer" <<'PY'
import collections, statistics, sys
rates = collections.defaultdict(list)
for path in sys.argv[1:]:
    for line in open(path):
        _, key, value = line.split()
        rates[key].append(float(value))
med = {k: statistics.median(v) for k, v in rates.items()}
print("| what | dm_control /s | Graft /s | ratio |")
print("|---|---:|---:|---:|")
for key in sorted(k for k in med if k.startswith("graft/state/")):
    task = key.removeprefix("graft/state/")
    peer = med.get(f"dm_control/state/{task}")
    ratio = f"{med[key] / peer:.2f}x" if peer else "-"
    print(f"| {task} state steps | {peer or 0:.0f} | {med[key]:.0f} | {ratio} |")
for key in sorted(k for k in med if k.startswith("graft/render/")):
    task, quality = key.removeprefix("graft/render/").rsplit("/", 1)
    peer = med.get(f"dm_control/render/{task}")
    ratio = f"{med[key] / peer:.2f}x" if peer else "-"
    print(f"| {task} 84x84 frames, {quality} | {peer or 0:.1f} | {med[key]:.1f} | {ratio} |")
PY
