"""Inverse dynamics on CartPole frames in PyTorch: the cross-check of Graft's recipe
(tests/pretrain.rs::frames_recipe_sweep, benchmarks/RESULTS.md "Inverse dynamics on CartPole
frames") with an independent implementation of the same network and data pipeline.

Two steps, because the two venvs hold different packages:

  # 1. Graft dataset (.arrow) -> .npz of grayscale frames (needs pyarrow: the test venv)
  $(scripts/test-python-deps.sh) benchmarks/peers/idm_frames.py npz train.arrow test.arrow
  # 2. train and score on held-out episodes (needs torch: benchmarks/peers/.venv)
  benchmarks/peers/.venv/bin/python benchmarks/peers/idm_frames.py train train.npz test.npz \
      --input shift --seed 0

The network is Graft's `nature_cnn` with 64 features under a 128->256->2 head (the
`inverse_dynamics` task), on `--stack` stacked grayscale frames padded at each episode's start
with its first frame (Graft's `FrameOptions`); Adam, batch 32, one thread.
"""
import argparse
import sys
import time

import numpy as np


def to_npz(paths):
    import pyarrow.ipc as ipc

    for p in paths:
        t = ipc.open_file(p).read_all()
        shape = eval(t.schema.field("observations").metadata[b"shape"])  # "[H,W,3]"
        obs = np.stack(t["observations"].to_numpy(zero_copy_only=False)).reshape(-1, *shape)
        rgb = obs.astype(np.float64)
        # Graft's (and Gymnasium's) luma, truncated to uint8.
        g = (rgb[..., 0] * 0.2125 + rgb[..., 1] * 0.7154 + rgb[..., 2] * 0.0721).astype(np.uint8)
        a = np.array([-1 if x is None else x for x in t["actions"].to_pylist()])
        out = p.rsplit(".", 1)[0] + ".npz"
        np.savez(out, g=g, ep=t["episode_id"].to_numpy(), a=a)
        print(out, g.shape, int((a >= 0).sum()), "transitions")


def pairs(path, k):
    """(o_t, o_{t+1}, a_t) with k stacked frames, as Graft's Trajectories::batch builds them."""
    import torch

    d = np.load(path)
    g, ep, a = d["g"], d["ep"], d["a"]
    obs, nxt, act = [], [], []
    for e in np.unique(ep):
        idx = np.where(ep == e)[0]

        def stack(j):
            return np.stack([g[idx[max(j - k + 1 + m, 0)]] for m in range(k)])

        for j in range(len(idx) - 1):
            obs.append(stack(j))
            nxt.append(stack(j + 1))
            act.append(a[idx[j]])
    return torch.tensor(np.array(obs)), torch.tensor(np.array(nxt)), torch.tensor(np.array(act))


def train(args):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(1)
    tr, te = pairs(args.train, args.stack), pairs(args.test, args.stack)
    h, w = tr[0].shape[2:]
    unit = tr[0].float() / 255
    mean, std = unit.mean(), unit.std()

    def prep(x):
        x = x.float() / 255
        if args.input == "shift":  # Graft's input_shift -1: white background at 0
            return x - 1
        if args.input == "standardise":  # one mean and std over the training frames
            return (x - mean) / std
        return x

    torch.manual_seed(args.seed)
    k = args.stack
    conv = nn.Sequential(
        nn.Conv2d(k, 32, 8, 4), nn.ReLU(), nn.Conv2d(32, 64, 4, 2), nn.ReLU(),
        nn.Conv2d(64, 64, 3, 1), nn.ReLU(), nn.Flatten(),
    )
    n = conv(torch.zeros(1, k, h, w)).shape[1]
    enc = nn.Sequential(conv, nn.Linear(n, 64), nn.ReLU())
    head = nn.Sequential(nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 2))
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=args.lr)

    def logits(o, o2):
        z = enc(prep(torch.cat([o, o2])))
        return head(torch.cat([z[: len(o)], z[len(o):]], 1))

    t0, curve = time.time(), []
    for s in range(args.steps):
        i = torch.randint(len(tr[2]), (32,))
        loss = F.cross_entropy(logits(tr[0][i], tr[1][i]), tr[2][i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (s + 1) % 100 == 0:
            with torch.no_grad():
                acc = (logits(te[0], te[1]).argmax(1) == te[2]).float().mean().item()
            curve.append(f"{s + 1}:{acc:.3f}")
    print(f"input={args.input} stack={k} lr={args.lr} seed={args.seed} train={len(tr[2])} "
          f"held-out={len(te[2])} accuracy by step {' '.join(curve)} ({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "npz":
        to_npz(sys.argv[2:])
        sys.exit(0)
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["train"])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--stack", type=int, default=2)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--input", choices=["raw", "shift", "standardise"], default="shift")
    ap.add_argument("--seed", type=int, default=0)
    train(ap.parse_args())
