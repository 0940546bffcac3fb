"""Stable-Baselines3 2.9.2 peer for `graft rl train`: PPO or DQN on CartPole-v1 with the RL
Baselines3 Zoo's hyperparameters (the same values as Graft's `sb3_zoo_cartpole` presets),
timed from `learn()` start to end, then a deterministic evaluation on 10 episodes.

Prints one JSON line: algo, steps, wall seconds, steps/s, evaluation mean and std.
Usage: python sb3_rl.py ppo|dqn SEED [THREADS]   (THREADS: torch threads, default 1; 0 leaves
torch's own default, all cores, as SB3 runs out of the box)
"""
import json
import sys
import time

import gymnasium as gym
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy


def linear(start):
    return lambda progress_remaining: progress_remaining * start


def main():
    algo, seed = sys.argv[1], int(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if threads > 0:
        torch.set_num_threads(threads)
    if algo == "ppo":
        steps = 100_000
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPO(
            "MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
            n_epochs=20, ent_coef=0.0, learning_rate=linear(1e-3), clip_range=linear(0.2),
            seed=seed, device="cpu", verbose=0,
        )
    else:
        steps = 50_000
        env = gym.make("CartPole-v1")
        model = DQN(
            "MlpPolicy", env, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
            learning_starts=1000, gamma=0.99, target_update_interval=10, train_freq=256,
            gradient_steps=128, exploration_fraction=0.16, exploration_final_eps=0.04,
            policy_kwargs=dict(net_arch=[256, 256]), seed=seed, device="cpu", verbose=0,
        )
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - t0
    eval_env = gym.make("CartPole-v1")
    eval_env.reset(seed=seed + 1_000_003)
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
    print(json.dumps({"system": "sb3", "algo": algo, "seed": seed, "steps": steps, "wall_s": round(wall, 2),
                      "steps_per_s": round(steps / wall, 1), "eval_mean": float(mean), "eval_std": float(std)}))


if __name__ == "__main__":
    main()
