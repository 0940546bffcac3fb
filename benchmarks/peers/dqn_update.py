"""PyTorch-eager peer of one DrQ(eps) update (Kostrikov et al. 2020; Agarwal et al. 2021's
epsilon settings; Dopamine's `labs/atari_100k/configs/DrQ_eps.gin`), to compare with Graft's
`DqnLearner::update` at `--config atari100k` (`src/rl/dqn.rs`) on the same network, batch and
thread count.

The network is Graft's: the Nature CNN (32 8x8/4, 64 4x4/2, 64 3x3/1, a 512-unit layer) on 4
stacked 84x84 grey frames scaled by 1/255, then dueling streams, Q = V + A - mean(A). One
update = augment observations and successors independently (replicate pad 4 + a random
84x84 crop per image, then each image times 1 + 0.05 * clip(N(0, 1), -2, 2)), a 10-step
double-DQN target from the online network (the target network is synced every step, so it is
the online one), the Huber loss on the batch's actions, one Adam step (lr 1e-4, eps 1.5e-4).
The batch is a fixed random uint8 tensor already in memory (Graft's figure includes gathering
it from its replay buffer).

Prints one JSON line: batch, threads, updates, median/mean seconds per update.
Usage: python dqn_update.py [BATCH] [UPDATES] [THREADS]   (defaults 32 200 1)
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIONS = 18
PAD = 4


class DuelingNature(nn.Module):
    def __init__(self, actions):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(),
        )
        self.value = nn.Linear(512, 1)
        self.advantage = nn.Linear(512, actions)

    def forward(self, x):
        h = self.convs(x / 255.0)
        a = self.advantage(h)
        return self.value(h) + a - a.mean(dim=1, keepdim=True)


def augment(x):
    """Random shift by replicate padding and a per-image crop, then intensity noise."""
    b, c, h, w = x.shape
    padded = F.pad(x, (PAD, PAD, PAD, PAD), mode="replicate")
    dy = torch.randint(0, 2 * PAD + 1, (b,))
    dx = torch.randint(0, 2 * PAD + 1, (b,))
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]
    shifted = padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None],
                     rows, cols]
    noise = torch.randn(b, 1, 1, 1).clamp(-2.0, 2.0)
    return shifted * (1.0 + 0.05 * noise)


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    updates = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    q = DuelingNature(ACTIONS)
    opt = torch.optim.Adam(q.parameters(), lr=1e-4, eps=1.5e-4)
    obs = torch.randint(0, 256, (batch, 4, 84, 84), dtype=torch.uint8)
    next_obs = torch.randint(0, 256, (batch, 4, 84, 84), dtype=torch.uint8)
    actions = torch.randint(0, ACTIONS, (batch, 1))
    rewards = torch.rand(batch)
    discounts = torch.full((batch,), 0.99 ** 10)
    terminated = torch.zeros(batch)

    def update():
        o = augment(obs.float())
        n = augment(next_obs.float())
        with torch.no_grad():
            next_q = q(n)
            best = next_q.argmax(dim=1, keepdim=True)
            y = rewards + discounts * (1.0 - terminated) * next_q.gather(1, best).squeeze(1)
        q_sa = q(o).gather(1, actions).squeeze(1)
        loss = F.smooth_l1_loss(q_sa, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(10):
        update()
    times = []
    for _ in range(updates):
        t0 = time.perf_counter()
        update()
        times.append(time.perf_counter() - t0)
    print(json.dumps({
        "batch": batch, "threads": threads, "updates": updates,
        "median_s": statistics.median(times), "mean_s": statistics.mean(times),
    }))


if __name__ == "__main__":
    main()
