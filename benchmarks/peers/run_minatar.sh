#!/usr/bin/env bash
# MinAtar side by side: minatar 1.0.15 (Python, Young & Tian 2019) against graft-envs' port.
# Installs minatar into benchmarks/peers/.venv (gitignored) if needed, times the Python loop
# (env.act(a) + env.state()), runs the criterion bench `minatar`, and prints the ratios.
#
#   benchmarks/peers/run_minatar.sh            # from the repository root
#   SECONDS_PER_GAME=3 REPEATS=5 benchmarks/peers/run_minatar.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/benchmarks/peers/.venv"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import importlib.metadata as m; assert m.version("minatar") == "1.0.15"' 2>/dev/null; then
  "$VENV/bin/pip" install -q "minatar==1.0.15"
fi

echo "== machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Python minatar $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("minatar"))'), numpy $("$VENV/bin/python" -c 'import numpy; print(numpy.__version__)')"
PY_OUT="$(mktemp)"
"$VENV/bin/python" benchmarks/peers/minatar_peer.py \
  --seconds "${SECONDS_PER_GAME:-2}" --repeats "${REPEATS:-3}" | tee "$PY_OUT"

echo "== graft-envs (criterion)"
cargo bench -p graft-envs --bench minatar -- --warm-up-time 1 --measurement-time 3 minatar_step 2>&1 \
  | grep -E "^minatar_step|time:|thrpt:"

echo "== ratios (median steps/s)"
"$VENV/bin/python" - "$PY_OUT" "$TARGET/criterion/minatar_step" <<'PY'
import json, os, sys
py = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    py[d["game"]] = d["steps_per_s"]
print(f"{'game':<14} {'python':>12} {'graft':>14} {'ratio':>8}")
for game, rate in py.items():
    est = json.load(open(os.path.join(sys.argv[2], game, "new", "estimates.json")))
    ns = est["median"]["point_estimate"]
    ours = 1e9 / ns
    print(f"{game:<14} {rate:>12,.0f} {ours:>14,.0f} {ours / rate:>7.0f}x")
PY
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$PY_OUT"
