"""Python peer of benchmarks/mujoco.rs: MuJoCo v5 steps per second in Gymnasium and EnvPool.

  * single: gym.make(id) (Gymnasium 1.4.0's own MuJoCo env with its wrappers, as users get
    it) stepped in a Python loop with actions drawn uniformly in the box before the clock
    starts, reset when an episode ends (inside the timed loop, as Graft's bench does);
  * envpool: envpool.make(id, env_type="gymnasium", num_envs=N, batch_size=N,
    num_threads=T), one synchronous batch per step (next-step autoreset, as Graft's), at the
    (N, T) pairs of Graft's vector bench;
  * sync: gymnasium.vector.SyncVectorEnv over N gym.make envs (the fallback where EnvPool is
    missing; one core).

Each figure is the median of --repeats timed runs of about --seconds each, against the wall
clock and against the process's CPU time. Output lines are
`RESULT <name> <steps_per_wall_second> <steps_per_cpu_second>`, read by run_mujoco.sh.
"""

import argparse
import statistics
import time

import numpy as np
import gymnasium as gym


def median_rate(run, repeats):
    """Median steps/s over `repeats` calls of run(), which returns the steps it took: against
    the wall clock, and against the process's CPU time (every thread, EnvPool's workers
    included: steps per CPU-second)."""
    run()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        steps = run()
        t1, c1 = time.perf_counter(), time.process_time()
        wall.append(steps / (t1 - t0))
        cpu.append(steps / max(c1 - c0, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def steps_for(env_id, seconds):
    """Steps per timed run: about `seconds` at Gymnasium's single-env speed."""
    per_second = {"HalfCheetah-v5": 8000, "Hopper-v5": 8000, "Walker2d-v5": 8000}
    return max(200, int(seconds * per_second.get(env_id, 2000)))


def bench_single(env_id, seconds, repeats):
    env = gym.make(env_id)
    env.reset(seed=0)
    steps = steps_for(env_id, seconds)
    low, high = env.action_space.low, env.action_space.high
    actions = np.random.default_rng(0).uniform(low, high, size=(steps, low.size)).astype(np.float32)

    def run():
        step, reset = env.step, env.reset
        for a in actions:
            _, _, terminated, truncated, _ = step(a)
            if terminated or truncated:
                reset()
        return steps

    return median_rate(run, repeats)


def bench_envpool(env_id, num_envs, threads, seconds, repeats):
    import envpool

    env = envpool.make(
        env_id,
        env_type="gymnasium",
        num_envs=num_envs,
        batch_size=num_envs,
        num_threads=threads,
        seed=0,
    )
    env.reset()
    space = env.action_space
    batches = max(20, steps_for(env_id, seconds) * threads // num_envs * 2)
    actions = np.random.default_rng(1).uniform(
        space.low, space.high, size=(batches, num_envs, space.low.size)
    ).astype(np.float32)

    def run():
        step = env.step
        for a in actions:
            step(a)
        return batches * num_envs

    return median_rate(run, repeats)


def bench_sync(env_id, num_envs, seconds, repeats):
    env = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)])
    env.reset(seed=0)
    space = env.single_action_space
    batches = max(10, steps_for(env_id, seconds) // num_envs)
    actions = np.random.default_rng(1).uniform(
        space.low, space.high, size=(batches, num_envs, space.low.size)
    ).astype(np.float32)

    def run():
        step = env.step
        for a in actions:
            step(a)
        return batches * num_envs

    return median_rate(run, repeats)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ids", default="HalfCheetah-v5,Hopper-v5")
    p.add_argument("--what", default="single,envpool", help="single, envpool, sync")
    p.add_argument("--vector", default="8x1,8x2,16x2", help="NxT pairs for envpool / sync")
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if gym.__version__ != "1.4.0":
        raise SystemExit(f"expected gymnasium 1.4.0, found {gym.__version__}")
    what = args.what.split(",")
    pairs = [tuple(int(x) for x in nt.split("x")) for nt in args.vector.split(",")]
    for env_id in args.ids.split(","):
        if "single" in what:
            rate = bench_single(env_id, args.seconds, args.repeats)
            print(f"RESULT single/{env_id} {rate[0]:.1f} {rate[1]:.1f}", flush=True)
        if "envpool" in what:
            for n, t in pairs:
                rate = bench_envpool(env_id, n, t, args.seconds, args.repeats)
                print(f"RESULT envpool/{env_id}/{n}x{t} {rate[0]:.1f} {rate[1]:.1f}", flush=True)
        if "sync" in what:
            for n in sorted({n for n, _ in pairs}):
                rate = bench_sync(env_id, n, args.seconds, args.repeats)
                print(f"RESULT sync/{env_id}/{n}x1 {rate[0]:.1f} {rate[1]:.1f}", flush=True)


if __name__ == "__main__":
    main()
