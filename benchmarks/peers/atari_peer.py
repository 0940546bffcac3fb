"""Atari throughput of ale-py 0.12.1 through Gymnasium 1.4.0: the peer of benchmarks/atari.rs.

Prints `RESULT peer/<kind>/<Game> <per second>` lines, each the median of five timed runs:
env.step on ALE/<Game>-v5 at its defaults (steps/s); the same under AtariPreprocessing
(frameskip 1 underneath); ALEInterface.act alone (frames/s); ale-py's C++ AtariVectorEnv
(EnvPool's design) with 8 envs on 2 threads, 84x84 grayscale, stack 4 (steps/s).
"""

import statistics
import time

import ale_py
import gymnasium as gym
import numpy as np

gym.register_envs(ale_py)
STEPS = 1000
GAMES = ["Breakout", "Pong"]


def timed(fn, reps=5):
    fn()  # warm-up
    rates = []
    for _ in range(reps):
        start = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def steps(env, actions):
    def run():
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        return len(actions)
    return run


for game in GAMES:
    rng = np.random.default_rng(1)
    env = gym.make(f"ALE/{game}-v5")
    env.reset(seed=0)
    # benchmarks/atari.rs's sequence: with the same seed, both sides play the same game.
    n = env.action_space.n
    actions = [((t * 2654435761) % (1 << 32) >> 16) % n for t in range(STEPS)]
    print(f"RESULT peer/step/{game} {timed(steps(env, actions)):.2f}", flush=True)

    env = gym.wrappers.AtariPreprocessing(gym.make(f"ALE/{game}-v5", frameskip=1))
    env.reset(seed=0)
    print(f"RESULT peer/preprocessed/{game} {timed(steps(env, actions)):.2f}", flush=True)

    ale = gym.make(f"ALE/{game}-v5").unwrapped.ale
    ale.reset_game()
    action_set = ale.getMinimalActionSet()

    def frames():
        for t in range(4 * STEPS):
            ale.act(action_set[(t // 4) % 3])
            if ale.game_over():  # ALE stops emulating after a game over
                ale.reset_game()
        ale.reset_game()
        return 4 * STEPS
    print(f"RESULT peer/frames/{game} {timed(frames):.2f}", flush=True)

    vec = ale_py.vector_env.AtariVectorEnv(game=game.lower(), num_envs=8, num_threads=2,
                                           reward_clipping=False, use_fire_reset=False)
    vec.reset(seed=0)
    batch = rng.integers(env.action_space.n, size=(250, 8))

    def vector():
        for a in batch:
            vec.step(a)
        return 250 * 8
    print(f"RESULT peer/vector/{game} {timed(vector):.2f}", flush=True)
