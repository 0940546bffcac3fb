"""Python peer of benchmarks/envs.rs: CartPole-v1 steps per second in Gymnasium and EnvPool.

Measures, on one core unless stated:
  * gym.make("CartPole-v1") stepped in a Python loop, reset when an episode ends
    (what Graft's single-env bench does);
  * gymnasium.envs.classic_control.cartpole.CartPoleVectorEnv(num_envs=256), the numpy-
    vectorised CartPole (next-step autoreset), one batch per step;
  * EnvPool's CartPole-v1 with 256 envs on 1 thread, if envpool imports.

Actions are drawn before the clock starts so sampling is not counted. Each figure is the
median of --repeats timed runs. Output lines are `RESULT <name> <steps_per_second>`, read by
run_envs.sh. Pinned to gymnasium==1.4.0 (checked below).
"""

import argparse
import statistics
import time

import numpy as np
import gymnasium as gym
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv


def median_rate(run, steps, repeats):
    """Median steps/s over `repeats` calls of run() that each take `steps` env steps."""
    run()  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        rates.append(steps / (time.perf_counter() - t0))
    return statistics.median(rates)


def bench_single(steps, repeats):
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=steps).tolist()

    def run():
        step, reset = env.step, env.reset
        for a in actions:
            _, _, terminated, truncated, _ = step(a)
            if terminated or truncated:
                reset()

    return median_rate(run, steps, repeats)


def bench_vector(num_envs, batches, repeats):
    env = CartPoleVectorEnv(num_envs=num_envs)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=(batches, num_envs))

    def run():
        step = env.step
        for a in actions:
            step(a)

    return median_rate(run, batches * num_envs, repeats)


def bench_envpool(num_envs, batches, repeats):
    try:
        import envpool
    except Exception as e:  # not installed, or no wheel for this platform
        print(f"# envpool unavailable: {e}")
        return None
    env = envpool.make(
        "CartPole-v1",
        env_type="gymnasium",
        num_envs=num_envs,
        batch_size=num_envs,
        num_threads=1,
        seed=0,
    )
    env.reset()
    actions = np.random.default_rng(0).integers(0, 2, size=(batches, num_envs))

    def run():
        step = env.step
        for a in actions:
            step(a)

    return median_rate(run, batches * num_envs, repeats)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100_000, help="single-env steps per run")
    p.add_argument("--batches", type=int, default=2_000, help="vector batches per run")
    p.add_argument("--num-envs", type=int, default=256)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if gym.__version__ != "1.4.0":
        raise SystemExit(f"expected gymnasium 1.4.0, found {gym.__version__}")

    print(f"# gymnasium {gym.__version__}, numpy {np.__version__}")
    print(f"RESULT gym_make_loop {bench_single(args.steps, args.repeats):.1f}")
    n = args.num_envs
    print(f"RESULT cartpole_vector_env_{n} {bench_vector(n, args.batches, args.repeats):.1f}")
    rate = bench_envpool(n, args.batches, args.repeats)
    if rate is not None:
        print(f"RESULT envpool_{n}_1thread {rate:.1f}")


if __name__ == "__main__":
    main()
