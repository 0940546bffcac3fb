#!/usr/bin/env bash
# MuJoCo throughput (issue #21, item 6), Graft against Gymnasium 1.4.0 and EnvPool, in one
# shell run, in interleaved rounds (Graft then peer, peer then Graft, ...) so that the load of
# a shared machine falls on both sides alike:
#   A. the criterion bench benchmarks/mujoco.rs (release): single env, MuJoCo calls alone,
#      make_vec at N envs x T threads;
#   B. benchmarks/peers/mujoco_peer.py: gym.make single env, EnvPool at the same N x T.
# Then a table of medians over the rounds and the ratios the targets are stated in.
#
# Usage: benchmarks/peers/run_mujoco.sh [rounds (default 4)]
#        (RESULTS_OUT=file keeps every round's figures)
# Env:   CARGO_TARGET_DIR (default: target), PYTHON (default: python3),
#        CRITERION_ARGS (default: "--warm-up-time 0.5 --measurement-time 2 --sample-size 10"),
#        PEER_ARGS (passed to the Python peer, e.g. "--seconds 2").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
rounds="${1:-4}"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
venv="$root/benchmarks/peers/.venv"
python="${PYTHON:-python3}"
crit_args="${CRITERION_ARGS:---warm-up-time 0.5 --measurement-time 2 --sample-size 10}"

echo "== machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== load before: $(cat /proc/loadavg)"

# Python: Gymnasium's MuJoCo envs on the MuJoCo Graft uses, and EnvPool. EnvPool 1.2.7 has
# wheels for CPython >= 3.12 only; Debian 12 ships 3.11, so 1.2.5 (the newest for 3.11, with
# the v5 MuJoCo tasks) is what installs here.
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q "gymnasium[mujoco]==1.4.0" "mujoco==3.17.0" numpy
if ! "$venv/bin/python" -c "import envpool" 2>/dev/null; then
    "$venv/bin/pip" install -q "envpool==1.2.7" 2>/dev/null \
        || "$venv/bin/pip" install -q "envpool==1.2.5" \
        || echo "# envpool not installable; vector peer is gymnasium's SyncVectorEnv"
fi
"$venv/bin/pip" install -q "gymnasium[mujoco]==1.4.0" "mujoco==3.17.0"
"$venv/bin/python" -c "import gymnasium, mujoco; print('== python:', gymnasium.__version__, 'mujoco', mujoco.__version__)"
peer_what="single,envpool"
if ! "$venv/bin/python" -c "import envpool; print('== envpool', envpool.__version__)"; then
    peer_what="single,sync"
fi

echo "== build: cargo bench -p graft-envs --bench mujoco --no-run"
cargo bench -q -p graft-envs --bench mujoco --no-run 2>&1 | grep -E "^error" || true

out="$(mktemp -d)"
# Lines "RESULT <side>/<kind>/<id>[/NxT] <clock> <steps/s>", clock = wall | cpu.
graft_round() {
    rm -rf "$target"/criterion/mujoco_*
    # shellcheck disable=SC2086
    cargo bench -q -p graft-envs --bench mujoco -- $crit_args >/dev/null 2>&1
    "$venv/bin/python" - "$target/criterion" >>"$out/graft" <<'PY'
import json, pathlib, sys
for est in sorted(pathlib.Path(sys.argv[1]).glob("mujoco_*/**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    elements = bench["throughput"]["Elements"]
    median_ns = json.loads(est.read_text())["median"]["point_estimate"]
    group, rest = bench["full_id"].split("/", 1)
    clock = "cpu" if group.startswith("mujoco_cpu_") else "wall"
    kind = group.rsplit("_", 1)[1]
    print(f"RESULT graft/{kind}/{rest} {clock} {elements / (median_ns * 1e-9):.1f}")
PY
}
peer_round() {
    ids="$(grep -o 'graft/single/[^ ]*' "$out/graft" | cut -d/ -f3 | sort -u | paste -sd,)"
    # shellcheck disable=SC2086
    "$venv/bin/python" -W ignore benchmarks/peers/mujoco_peer.py --ids "$ids" --what "$peer_what" \
        ${PEER_ARGS:-} \
        | awk '/^RESULT/ { print "RESULT peer/" $2, "wall", $3; print "RESULT peer/" $2, "cpu", $4 }' \
        >>"$out/peer"
}

for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then order="graft peer"; else order="peer graft"; fi
    for side in $order; do
        "${side}_round"
    done
    echo "== round $r ($order) done, load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "== load after: $(cat /proc/loadavg)"
if [ -n "${RESULTS_OUT:-}" ]; then cat "$out/graft" "$out/peer" >"$RESULTS_OUT"; fi

echo "== table (medians over $rounds rounds; steps/s against the wall clock and per CPU-second)"
"$venv/bin/python" - "$out/graft" "$out/peer" <<'PY'
import collections, statistics, sys

runs = collections.defaultdict(list)
for path in sys.argv[1:]:
    for line in open(path):
        _, name, clock, rate = line.split()
        runs[(name, clock)].append(float(rate))
med = {k: statistics.median(v) for k, v in runs.items()}
nan = float("nan")

def fmt(x):
    return f"{x / 1e3:8.1f}k" if x == x else "       -"

names = sorted({n for n, _ in med})
print(f"{'benchmark':40} {'wall':>9} {'cpu':>9}  wall min..max (rounds)")
for n in names:
    w = runs.get((n, "wall"), [nan])
    print(f"{n:40} {fmt(med.get((n, 'wall'), nan))} {fmt(med.get((n, 'cpu'), nan))}"
          f"  {min(w) / 1e3:.1f}..{max(w) / 1e3:.1f}k ({len(w)})")
print()
ids = sorted({n.split("/")[2] for n in names if n.startswith("graft/single/")})
print(f"{'single env':16} {'Graft/Gym wall':>15} {'Graft/Gym cpu':>14} {'in MuJoCo (cpu)':>16}")
for i in ids:
    row = []
    for clock in ("wall", "cpu"):
        g, p = med.get((f"graft/single/{i}", clock)), med.get((f"peer/single/{i}", clock))
        row.append(g / p if g and p else nan)
    g, phys = med.get((f"graft/single/{i}", "cpu")), med.get((f"graft/physics/{i}", "cpu"))
    frac = g / phys if g and phys else nan
    verdict = "met" if min(row) >= 3 else ("met on cpu" if row[1] >= 3 else "MISSED")
    print(f"{i:16} {row[0]:14.2f}x {row[1]:13.2f}x {frac:15.0%}   target >= 3x: {verdict}")
print()
print(f"{'vector':16} {'N x T':>6} {'Graft wall/T':>12} {'peer wall/T':>12} {'ratio':>6}"
      f" {'Graft /cpu-s':>12} {'peer /cpu-s':>12} {'ratio':>6}")
for n in names:
    if not n.startswith("graft/vector/"):
        continue
    _, _, i, nt = n.split("/")
    t = int(nt.split("x")[1])
    peer, pt = f"peer/envpool/{i}/{nt}", t
    if (peer, "wall") not in med:
        peer, pt = f"peer/sync/{i}/{nt.split('x')[0]}x1", 1
    if (peer, "wall") not in med:
        continue
    gw, pw = med[(n, "wall")] / t, med[(peer, "wall")] / pt
    gc, pc = med[(n, "cpu")], med[(peer, "cpu")]
    print(f"{i:16} {nt:>6} {fmt(gw):>12} {fmt(pw):>12} {gw / pw:5.2f}x {fmt(gc):>12} {fmt(pc):>12}"
          f" {gc / pc:5.2f}x  vs {peer.split('/')[1]}")
PY
rm -rf "$out"
