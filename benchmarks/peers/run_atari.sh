#!/usr/bin/env bash
# Atari throughput (issue #24, item 5): Graft against ale-py 0.12.1 (+ Gymnasium 1.4.0) on the
# same ALE, in one shell run, in alternating rounds (Graft then ale-py, ale-py then Graft, ...)
# so that the load of a shared machine falls on both alike:
#   A. the criterion bench benchmarks/atari.rs (release, --features atari);
#   B. benchmarks/peers/atari_peer.py.
# Then the medians over the rounds and the ratios.
#
# Usage: benchmarks/peers/run_atari.sh [rounds (default 3)]
# Env:   CARGO_TARGET_DIR (default: target), PYTHON (default: python3), VENV (default:
#        benchmarks/peers/.venv). Needs scripts/setup.sh --atari.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
rounds="${1:-3}"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
venv="${VENV:-$root/benchmarks/peers/.venv}"
python="${PYTHON:-python3}"

echo "== machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== load before: $(cat /proc/loadavg)"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q "ale-py==0.12.1" "gymnasium==1.4.0" numpy
echo "== build: cargo bench -p graft-envs --features atari --bench atari --no-run"
cargo bench -q -p graft-envs --features atari --bench atari --no-run 2>&1 | grep -E "^error" || true

out="$(mktemp -d)"
graft_round() {
    rm -rf "$target"/criterion/atari_*
    cargo bench -q -p graft-envs --features atari --bench atari >/dev/null 2>&1
    "$venv/bin/python" - "$target/criterion" >>"$out/graft" <<'PY'
import json, pathlib, sys
for est in sorted(pathlib.Path(sys.argv[1]).glob("atari_*/**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    per_iter_ns = json.loads(est.read_text())["median"]["point_estimate"]
    elements = bench["throughput"]["Elements"]
    kind = bench["group_id"].removeprefix("atari_")
    print(f"RESULT graft/{kind}/{bench['value_str']} {elements / per_iter_ns * 1e9:.2f}")
PY
}
peer_round() {
    "$venv/bin/python" benchmarks/peers/atari_peer.py 2>/dev/null | grep RESULT >>"$out/peer"
}
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then graft_round; peer_round; else peer_round; graft_round; fi
    echo "== round $r done, load $(cut -d' ' -f1-3 /proc/loadavg)"
done

"$venv/bin/python" - "$out/graft" "$out/peer" <<'PY'
import collections, statistics, sys
def read(path):
    values = collections.defaultdict(list)
    for line in open(path):
        _, name, value = line.split()
        values[name.split("/", 1)[1]].append(float(value))
    return {k: statistics.median(v) for k, v in values.items()}
ours, theirs = read(sys.argv[1]), read(sys.argv[2])
print(f"{'bench':28} {'graft /s':>12} {'ale-py /s':>12} {'ratio':>7}")
for name in sorted(ours):
    t = theirs.get(name.replace("preprocessed", "preprocessed"))
    ratio = f"{ours[name] / t:.2f}x" if t else "-"
    print(f"{name:28} {ours[name]:12.0f} {t or 0:12.0f} {ratio:>7}")
PY
echo "== load after: $(cat /proc/loadavg)"
