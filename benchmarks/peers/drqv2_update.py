"""PyTorch-eager peer of one DrQ-v2 update (Yarats et al. 2021), to compare with Graft's
`src/rl/drqv2.rs` on the same networks, batch and thread count.

The networks and the update follow the paper's published implementation
(facebookresearch/drqv2): the 4-layer 32-channel encoder on 9x84x84 frames (x/255 - 0.5),
actor and critic trunks (linear -> LayerNorm -> tanh, 50 features), 1024-wide heads, twin Q,
a Polyak target of the critic (tau 0.01), Adam at 1e-4 for encoder, actor and critic, random
shift by replicate padding 4 and bilinear grid sampling. One update = augment both batches,
encode, critic loss and step (encoder and critic), actor loss on detached features and step,
target update. The batch is a fixed random uint8 tensor already in memory (the paper loads it
in a data-loader process; Graft's figure includes gathering it from its replay buffer).

Prints one JSON line: batch, threads, updates, median/mean seconds per update.
Usage: python drqv2_update.py [BATCH] [UPDATES] [THREADS]   (defaults 512 20 1)
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.orthogonal_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv2d):
        nn.init.orthogonal_(m.weight, nn.init.calculate_gain("relu"))
        nn.init.zeros_(m.bias)


class Encoder(nn.Module):
    def __init__(self, channels):
        super().__init__()
        layers, c_in = [], channels
        for stride in (2, 1, 1, 1):
            layers += [nn.Conv2d(c_in, 32, 3, stride=stride), nn.ReLU()]
            c_in = 32
        self.net = nn.Sequential(*layers)
        self.out_dim = 32 * 35 * 35
        self.apply(init_weights)

    def forward(self, x):
        return self.net(x / 255.0 - 0.5).flatten(1)


def trunk(features, width):
    return nn.Sequential(nn.Linear(features, width), nn.LayerNorm(width), nn.Tanh())


def head(inputs, hidden, outputs):
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, outputs),
    )


class Actor(nn.Module):
    def __init__(self, features, actions, width=50, hidden=1024):
        super().__init__()
        self.trunk, self.policy = trunk(features, width), head(width, hidden, actions)
        self.apply(init_weights)

    def forward(self, h):
        return torch.tanh(self.policy(self.trunk(h)))


class Critic(nn.Module):
    def __init__(self, features, actions, width=50, hidden=1024):
        super().__init__()
        self.trunk = trunk(features, width)
        self.q1, self.q2 = head(width + actions, hidden, 1), head(width + actions, hidden, 1)
        self.apply(init_weights)

    def forward(self, h, a):
        x = torch.cat([self.trunk(h), a], dim=-1)
        return self.q1(x), self.q2(x)


def shift(x, pad=4):
    n, _, h, w = x.shape
    x = F.pad(x, (pad,) * 4, mode="replicate")
    step = 2.0 / (h + 2 * pad)
    centres = torch.arange(h, dtype=x.dtype) * step + (step / 2 - 1.0)
    grid = torch.stack(torch.meshgrid(centres, centres, indexing="xy"), dim=-1)
    offsets = torch.randint(0, 2 * pad + 1, (n, 1, 1, 2), dtype=x.dtype) * step
    return F.grid_sample(x, grid.unsqueeze(0) + offsets, padding_mode="zeros", align_corners=False)


def noisy(mean, std, clip):
    eps = (torch.randn_like(mean) * std).clamp(-clip, clip)
    x = mean + eps
    return x - x.detach() + x.clamp(-1 + 1e-6, 1 - 1e-6).detach()


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    updates = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    actions = 6  # walker
    enc = Encoder(9)
    actor, critic = Actor(enc.out_dim, actions), Critic(enc.out_dim, actions)
    target = Critic(enc.out_dim, actions)
    target.load_state_dict(critic.state_dict())
    opts = [torch.optim.Adam(m.parameters(), lr=1e-4) for m in (enc, actor, critic)]
    enc_opt, actor_opt, critic_opt = opts
    obs = torch.randint(0, 256, (batch, 9, 84, 84), dtype=torch.uint8)
    next_obs = torch.randint(0, 256, (batch, 9, 84, 84), dtype=torch.uint8)
    act = torch.rand(batch, actions) * 2 - 1
    reward, discount = torch.rand(batch, 1), torch.full((batch, 1), 0.99)
    std, clip, tau = 0.5, 0.3, 0.01

    def update():
        o, n = shift(obs.float()), shift(next_obs.float())
        h = enc(o)
        with torch.no_grad():
            hn = enc(n)
            t1, t2 = target(hn, noisy(actor(hn), std, clip))
            y = reward + discount * torch.min(t1, t2)
        q1, q2 = critic(h, act)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        enc_opt.zero_grad(set_to_none=True)
        critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        critic_opt.step()
        enc_opt.step()
        hd = h.detach()
        p1, p2 = critic(hd, noisy(actor(hd), std, clip))
        actor_loss = -torch.min(p1, p2).mean()
        actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        actor_opt.step()
        with torch.no_grad():
            for pt, p in zip(target.parameters(), critic.parameters()):
                pt.lerp_(p, tau)

    for _ in range(2):
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
