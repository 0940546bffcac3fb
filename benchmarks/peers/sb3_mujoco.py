"""Stable-Baselines3 2.9.2 peer for `graft rl train --algo sac|td3 --config default` on a
MuJoCo env (HalfCheetah-v5, Gymnasium 1.4.0, MuJoCo 3.17.0): SB3's SAC or TD3 with Graft's
default hyperparameters (CleanRL's `sac_continuous_action.py` / `td3_continuous_action.py`),
timed from `learn()` start to end, then a deterministic evaluation on 10 episodes seeded as
Graft's (episode e on a fresh env reset with seed SEED + 1000003 + e).

The mapping, and where SB3 cannot follow Graft:
  * both: buffer 1M, gamma 0.99, tau 0.005, batch 256, train_freq 1, gradient_steps 1,
    net_arch [256, 256] (ReLU; PyTorch's default Linear init on both sides), uniform random
    actions for the first learning_starts steps, truncated episodes bootstrapped.
  * SAC: SB3 takes one learning rate for actor, critics and temperature: 3e-4 here, where Graft
    uses policy_lr 3e-4 and q_lr 1e-3 (critics and alpha). Graft updates the actor (and alpha)
    twice every second step (policy_frequency 2), SB3 once every step: the same number of actor
    updates. Target update every step on both (target_network_frequency 1). ent_coef "auto"
    starting at 1.0, target entropy -dim(A) on both. SB3 clamps the actor's log-std to
    [-20, 2]; Graft (CleanRL) squashes it into [-5, 2] with tanh. SB3's critic loss is
    0.5 * (mse1 + mse2), Graft's mse1 + mse2 (Adam makes the factor nearly irrelevant). SB3's
    temperature loss is -(log_alpha * (log_pi + target)).mean(), Graft's (CleanRL's)
    -(exp(log_alpha) * (log_pi + target)).mean(); SB3 updates alpha before the critics,
    Graft after the actor.
  * TD3: learning_rate 3e-4, policy_delay 2 (actor and target updates every second critic
    update, as Graft), target_policy_noise 0.2, target_noise_clip 0.5, exploration noise
    NormalActionNoise(0, 0.1) in SB3's [-1, 1]-rescaled action space (= 0.1 * scale in env
    units, Graft's exploration_noise 0.1 * scale; HalfCheetah's scale is 1).

Prints one JSON line: algo, env, seed, steps, learning_starts, wall_s (learn() only),
steps_per_s, total_s (process start to end: imports, model construction, learn, evaluation,
as Graft's own "in Xs" covers construction and its final evaluation), eval_mean, eval_std
(population std, as Graft's).

Usage: python sb3_mujoco.py sac|td3 ENV SEED STEPS [THREADS] [LEARNING_STARTS]
  THREADS: torch intra-op threads (default 1; 0 leaves torch's own default, all cores)
  LEARNING_STARTS: random warm-up steps (default Graft's: SAC 5000, TD3 25000)
"""
import time

T_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from stable_baselines3 import SAC, TD3  # noqa: E402
from stable_baselines3.common.noise import NormalActionNoise  # noqa: E402

EVAL_SEED_OFFSET = 1_000_003  # Graft's graft::rl::eval::EVAL_SEED_OFFSET
EVAL_EPISODES = 10


def evaluate(model, env_id, seed):
    """Deterministic returns of EVAL_EPISODES episodes, episode e on a fresh env reset with
    seed + EVAL_SEED_OFFSET + e (as Graft's graft::rl::eval::evaluate)."""
    returns = []
    for e in range(EVAL_EPISODES):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=seed + EVAL_SEED_OFFSET + e)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        env.close()
        returns.append(total)
    return float(np.mean(returns)), float(np.std(returns))


def main():
    algo, env_id, seed, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    if threads > 0:
        torch.set_num_threads(threads)
    default_starts = {"sac": 5_000, "td3": 25_000}[algo]
    learning_starts = int(sys.argv[6]) if len(sys.argv) > 6 else default_starts
    env = gym.make(env_id)
    common = dict(
        buffer_size=1_000_000, learning_starts=learning_starts, batch_size=256, tau=0.005,
        gamma=0.99, train_freq=1, gradient_steps=1, policy_kwargs=dict(net_arch=[256, 256]),
        seed=seed, device="cpu", verbose=0,
    )
    if algo == "sac":
        model = SAC(
            "MlpPolicy", env, learning_rate=3e-4, ent_coef="auto", target_entropy="auto",
            target_update_interval=1, **common,
        )
    else:
        d = env.action_space.shape[0]
        model = TD3(
            "MlpPolicy", env, learning_rate=3e-4,
            action_noise=NormalActionNoise(np.zeros(d), 0.1 * np.ones(d)),
            policy_delay=2, target_policy_noise=0.2, target_noise_clip=0.5, **common,
        )
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - t0
    mean, std = evaluate(model, env_id, seed)
    total = time.perf_counter() - T_START
    print(json.dumps({"system": "sb3", "algo": algo, "env": env_id, "seed": seed, "steps": steps,
                      "learning_starts": learning_starts, "threads": torch.get_num_threads(),
                      "wall_s": round(wall, 2), "steps_per_s": round(steps / wall, 1),
                      "total_s": round(total, 2), "eval_mean": mean, "eval_std": std}))


if __name__ == "__main__":
    main()
