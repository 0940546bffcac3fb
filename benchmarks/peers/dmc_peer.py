"""dm_control's side of benchmarks/peers/run_dmc.sh (issue #22, item 5).

For each task: ``env.step`` steps/s (1000-step blocks of uniform random actions drawn
beforehand, resetting at the episode's end, counted), and ``physics.render(84, 84,
camera_id)`` frames/s from the papers' camera (the state stepped once between frames, outside
the timing). Prints lines ``RESULT dm_control/<kind>/<task> <rate>`` with the median over
``--repeats`` timed blocks.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
from dm_control import suite

STATE_TASKS = ["cheetah-run", "walker-walk", "cartpole-swingup", "quadruped-run"]
RENDER_TASKS = ["cheetah-run", "walker-walk", "quadruped-run"]


def load(task):
    domain, name = task.split("-")
    return suite.load(domain, name, task_kwargs={"random": 0})


def state_rate(task, repeats):
    env = load(task)
    spec = env.action_spec()
    rng = np.random.default_rng(0)
    actions = rng.uniform(spec.minimum, spec.maximum, (1000, spec.shape[0]))
    env.reset()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for a in actions:
            ts = env.step(a)
            if ts.last():
                env.reset()
        rates.append(1000 / (time.perf_counter() - start))
    return statistics.median(rates)


def render_rate(task, repeats, frames):
    env = load(task)
    camera = 2 if task.startswith("quadruped") else 0
    zero = np.zeros(env.action_spec().shape)
    env.reset()
    env.physics.render(84, 84, camera_id=camera)
    rates = []
    for _ in range(repeats):
        spent = 0.0
        for _ in range(frames):
            env.step(zero)
            start = time.perf_counter()
            env.physics.render(84, 84, camera_id=camera)
            spent += time.perf_counter() - start
        rates.append(frames / spent)
    return statistics.median(rates)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--frames", type=int, default=20)
    args = p.parse_args()
    for task in STATE_TASKS:
        print(f"RESULT dm_control/state/dmc/{task} {state_rate(task, args.repeats):.1f}", flush=True)
    for task in RENDER_TASKS:
        print(f"RESULT dm_control/render/dmc/{task} {render_rate(task, args.repeats, args.frames):.2f}", flush=True)


if __name__ == "__main__":
    main()
