"""Thread CPU time per step of the Python peers, the load-independent counterpart of
gymnasium_cartpole.py and minatar_peer.py (whose wall-clock rates swing with the machine's
load). Pairs with `cargo run -p graft-envs --release --example step_cpu -- <id>`, which
measures Graft's step the same way (best of several runs, CLOCK_THREAD_CPUTIME_ID).

    benchmarks/peers/.venv/bin/python benchmarks/peers/cpu_time_peers.py [steps] [repeats]

Loops, as in the wall-clock peers: gymnasium 1.4.0's gym.make("CartPole-v1") stepped with
random actions drawn up front, reset when an episode ends; minatar 1.0.15's Environment
(Young & Tian 2019, https://arxiv.org/abs/1903.03176) with env.act(a) + env.state() per
step, random minimal-set actions, reset on terminal. Prints ns per step, best of `repeats`.
"""
import sys
import time

import gymnasium as gym
import numpy as np
from minatar import Environment

GAMES = {"Breakout": "breakout", "Asterix": "asterix", "Freeway": "freeway",
         "Seaquest": "seaquest", "SpaceInvaders": "space_invaders"}


def best_ns_per_step(run, steps, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time_ns()
        run()
        best = min(best, (time.thread_time_ns() - t0) / steps)
    return best


def cartpole(steps, repeats):
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    actions = np.random.RandomState(0).randint(0, 2, size=steps).tolist()

    def run():
        step, reset = env.step, env.reset
        for a in actions:
            _, _, terminated, truncated, _ = step(a)
            if terminated or truncated:
                reset()
    return best_ns_per_step(run, steps, repeats)


def minatar(game, steps, repeats):
    env = Environment(game)
    env.seed(0)
    env.reset()
    acts = env.minimal_action_set()
    actions = np.random.RandomState(0).choice(acts, size=steps).tolist()

    def run():
        for a in actions:
            _, terminal = env.act(a)
            env.state()
            if terminal:
                env.reset()
    return best_ns_per_step(run, steps, repeats)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40960
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    print(f"CartPole-v1 (gym.make): {cartpole(steps, repeats):.0f} ns/step", flush=True)
    for name, game in GAMES.items():
        print(f"MinAtar/{name}-v1: {minatar(game, steps, repeats):.0f} ns/step", flush=True)


if __name__ == "__main__":
    main()
