"""The Python side of the MinAtar benchmark: steps/s of minatar 1.0.15's Environment.

MinAtar: K. Young and T. Tian, 2019, https://arxiv.org/abs/1903.03176. Each step is
`env.act(a)` then `env.state()` (what an agent needs), with uniformly random actions from the
minimal action set drawn in advance, resetting on terminal — the same loop as
benchmarks/minatar.rs. Prints one JSON line per game with the median of `--repeats` timings.
"""
import argparse
import json
import time

import numpy as np
from minatar import Environment

GAMES = {"Breakout": "breakout", "Asterix": "asterix", "Freeway": "freeway",
         "Seaquest": "seaquest", "SpaceInvaders": "space_invaders"}


def steps_per_second(game, seconds):
    env = Environment(game)
    env.seed(0)
    env.reset()
    acts = env.minimal_action_set()
    actions = np.random.RandomState(0).choice(acts, size=4096).tolist()
    n, t0 = 0, time.perf_counter()
    while True:
        for a in actions:
            _, terminal = env.act(a)
            env.state()
            n += 1
            if terminal:
                env.reset()
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n / elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    for name, game in GAMES.items():
        rates = [steps_per_second(game, args.seconds) for _ in range(args.repeats)]
        print(json.dumps(dict(game=name, steps_per_s=float(np.median(rates)),
                              all=[round(r) for r in rates])), flush=True)


if __name__ == "__main__":
    main()
