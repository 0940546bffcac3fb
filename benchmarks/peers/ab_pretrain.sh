#!/usr/bin/env bash
# Pretraining throughput of two `graft` binaries, A/B alternating in one shell run: the same
# `graft pretrain` command (512 random 3x64x64 images, Nature CNN, batch 32, Adam 1e-4) run by
# each binary in turn, ROUNDS times, the order swapped every round. Prints per run the median
# items/s over the 20-step logging windows after the first (from metrics.csv) and the CPU time
# per step (user + sys of the whole process over the step count, start-up included).
#
#   benchmarks/peers/ab_pretrain.sh BASE_GRAFT NEW_GRAFT [ROUNDS] [TASK] [STEPS]
#   THREADS=2 benchmarks/peers/ab_pretrain.sh /tmp/graft-before target/release/graft 8 simclr
#
# Build BASE_GRAFT from an earlier commit in a worktree with its own target directory
# (`git worktree add /tmp/base <commit>; cd /tmp/base; CARGO_TARGET_DIR=/work/target-base
# cargo build --release --bin graft`). On a machine shared with other jobs use THREADS=1 (the
# default): two libtorch threads spin while one is descheduled and a step slows 10-30x.
set -euo pipefail
A=$1; B=$2; ROUNDS=${3:-10}; TASK=${4:-simclr}; STEPS=${5:-200}; THREADS=${THREADS:-1}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/graft-ab-pretrain.XXXXXX)"
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-$ROOT/.libtorch/current/lib}"

python3 - "$WORK/images64.safetensors" <<'PY'
import json, random, struct, sys
random.seed(0)
n, c, h, w = 512, 3, 64, 64
data = bytes(random.getrandbits(8) for _ in range(n * c * h * w))
head = json.dumps({"images": {"dtype": "U8", "shape": [n, c, h, w], "data_offsets": [0, len(data)]}}).encode()
head += b" " * (-len(head) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + data)
PY

run() { # binary label
  local out="$WORK/run-$2"
  TIMEFORMAT='%U %S'
  { time "$1" pretrain --task "$TASK" --data "$WORK/images64.safetensors" --model nature_cnn \
      --steps "$STEPS" --batch 32 --lr 1e-4 --threads "$THREADS" --device cpu --quiet \
      --log-every 20 --checkpoint-every 0 --out "$out" --overwrite >/dev/null 2>&1; } 2>"$WORK/cpu-$2"
  python3 - "$out/metrics.csv" "$WORK/cpu-$2" "$STEPS" <<'PY'
import csv, statistics, sys
v = [float(r["value"]) for r in csv.DictReader(open(sys.argv[1])) if r["tag"] == "steps_per_sec"][1:]
u, s = map(float, open(sys.argv[2]).read().split()[-2:])
print(f"{statistics.median(v) * 32:.1f}/{(u + s) * 1e3 / int(sys.argv[3]):.1f}ms")
PY
}

echo "== $TASK, $STEPS steps of 32, $THREADS libtorch thread(s); A = $A, B = $B"
echo "== $(date -u +%H:%M:%S) load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) -eq 1 ]; then a=$(run "$A" a); b=$(run "$B" b); else b=$(run "$B" b); a=$(run "$A" a); fi
  echo "round $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg): A $a B $b (items/s / CPU ms per step)"
done
echo "== $(date -u +%H:%M:%S) load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$WORK"
