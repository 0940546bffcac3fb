"""pyarrow's side of the dataset read benchmark: open the files the Rust bench wrote and do the
same work as its `open_scan` (memory-map, read every record batch, sum every observation value
and every non-null reward). Prints median times of 5 runs.

Usage: python pyarrow_read.py [DIR]   (DIR default: $GRAFT_BENCH_DIR or /tmp/graft-bench-data)
"""
import os
import statistics
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GRAFT_BENCH_DIR", "/tmp/graft-bench-data")


def open_only(path):
    with pa.memory_map(path) as src:
        return ipc.open_file(src).read_all().num_rows


def open_scan(path):
    with pa.memory_map(path) as src:
        table = ipc.open_file(src).read_all()
    total = 0.0
    for chunk in table["observations"].chunks:
        values = chunk.values.to_numpy()
        total += float(values.sum(dtype=np.float64 if values.dtype == np.float32 else np.uint64))
    total += pc.sum(table["rewards"]).as_py() or 0.0
    return total


def bench(f, path, runs=5):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f(path)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


print(f"pyarrow {pa.__version__}, numpy {np.__version__}")
for name in ["cartpole_1m.arrow", "cartpole_frames.arrow"]:
    path = os.path.join(root, name)
    if not os.path.exists(path):
        print(f"{name}: missing (run the Rust bench first)")
        continue
    rows = open_only(path)
    print(f"{name}: {rows} rows, {os.path.getsize(path) / 1e6:.1f} MB")
    print(f"  open_only (memory_map + read_all): {bench(open_only, path) * 1e3:.2f} ms")
    print(f"  open_scan (+ sum observations and rewards): {bench(open_scan, path) * 1e3:.2f} ms")
