"""Graft's DQN on MinAtar Breakout or Freeway against the MinAtar paper's DQN curve.

The paper (Young & Tian 2019, https://arxiv.org/abs/1903.03176) plots, for DQN with replay,
the moving average of the returns of the last 100 training episodes (ε-greedy, ε = 0.1 after
the first 100k frames; one frame per env step), averaged over 30 runs. The values below were
read off the DQN curve of the learning-curve figure in the `minatar` repository's README
(img/learning_curves.gif, Breakout and Freeway panels, by locating the curve's pixels; about
±0.2 on Breakout's scale, ±0.5 on Freeway's).

Usage: minatar_dqn_compare.py [--game breakout|freeway] RUN_DIR [RUN_DIR ...]
       (graft rl train --out directories; default game: breakout)
Prints, per run and averaged over runs, the same moving average at the same step counts, and
the greedy evaluation returns Graft logged (eval/return_mean).
"""

import csv
import statistics
import sys

PAPER_DQN = {
    "breakout": {100_000: 4.3, 200_000: 6.1, 300_000: 7.2, 400_000: 8.2, 500_000: 8.3,
                 1_000_000: 9.2, 5_000_000: 10.1},
    # Freeway's episodes last 2,500 steps, so the 100-episode average exists from 250k on.
    "freeway": {300_000: 10.9, 400_000: 23.5, 500_000: 34.5, 600_000: 41.0, 750_000: 45.5,
                1_000_000: 47.9, 1_500_000: 50.4},
}


def read(run):
    episodes, evals = [], {}
    with open(f"{run}/metrics.csv") as f:
        for row in csv.DictReader(f):
            try:
                step, tag, value = int(row["step"]), row["tag"], float(row["value"])
            except (TypeError, ValueError):  # a line still being written by a live run
                continue
            if tag == "charts/episodic_return":
                episodes.append((step, value))
            elif tag == "eval/return_mean":
                evals[step] = value
    return episodes, evals


def moving_average(episodes, step, window=100):
    done = [v for s, v in episodes if s <= step]
    if len(done) < window or episodes[-1][0] < step * 0.99:
        return None
    return statistics.fmean(done[-window:])


def main():
    args = sys.argv[1:]
    game = "breakout"
    if args[:1] == ["--game"]:
        game, args = args[1], args[2:]
    paper_curve = PAPER_DQN[game]
    runs = args
    data = {run: read(run) for run in runs}
    print(f"{'step':>9} {'paper DQN':>9} " + " ".join(f"{r.rsplit('/', 1)[-1]:>12}" for r in runs)
          + f" {'mean':>7}")
    for step, paper in paper_curve.items():
        ours = [moving_average(data[r][0], step) for r in runs]
        if all(v is None for v in ours):
            continue
        got = [v for v in ours if v is not None]
        cells = " ".join(f"{v:>12.2f}" if v is not None else f"{'-':>12}" for v in ours)
        print(f"{step:>9} {paper:>9.1f} {cells} {statistics.fmean(got):>7.2f}")
    print("greedy evaluation (eval/return_mean):")
    steps = sorted({s for r in runs for s in data[r][1]})
    for step in steps:
        vals = [data[r][1].get(step) for r in runs]
        cells = " ".join(f"{v:>12.2f}" if v is not None else f"{'-':>12}" for v in vals)
        got = [v for v in vals if v is not None]
        print(f"{step:>9} {'':>9} {cells} {statistics.fmean(got):>7.2f}")


if __name__ == "__main__":
    main()
