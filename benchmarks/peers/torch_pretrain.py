#!/usr/bin/env python3
"""PyTorch eager peer of benchmarks/pretrain.rs: one pretraining step (batch gathering,
augmentation, forward, loss, backward, Adam step, EMA update) in items/s on CPU, for the same
tasks, networks, batch (32) and thread count (2) as the criterion bench:

- inverse_dynamics: uint8 64x64 frames (o_t, o_{t+1}) -> Nature CNN (512) -> 1024->256->2.
- rotation: 32 images x 4 rotations -> Nature CNN -> 512->4.
- simclr: two views from torchvision's transforms, per image (random resized crop 0.08-1,
  flip, ColorJitter(0.4, 0.4, 0.4, 0.1) with probability 0.8, grayscale with probability
  0.2: Graft's `simclr_cifar` views) -> Nature CNN -> 512->512->128, NT-Xent 0.5.
- byol: BYOL's asymmetric views (jitter (0.4, 0.4, 0.2, 0.1), blur p 1.0 / 0.1, solarise
  p 0 / 0.2), projector/predictor 512/128 with BatchNorm, EMA target (lerp).
- mae: ViT (width 192, 3 heads, 4 pre-norm blocks, patch 8, class token) on the 25 % visible
  patches, decoder 2 blocks of width 128, normalised-pixel loss on hidden patches, written as
  the MAE reference code does it (conv over every patch, then drop 75 %; pixels predicted for
  every patch, then masked).
- mae_lean: the same model and loss with the work Graft's step skips also skipped here
  (embed only the kept patches, predict only the hidden ones), to compare the frameworks on
  the same algorithm. Graft's bench has one MAE case, the lean one.

The views are torchvision's own transforms with the settings of Graft's `ViewConfig`
(src/data/augment/view.rs), which reimplements them exactly; the MAE code mirrors image/mae.rs
operation by operation, so both sides do the same work. Frame data is random (the work does not depend on
pixel values). Prints "RESULT <name> <median items/s> <best items/s>".
"""
import argparse
import copy
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.transforms import v2

B = 32


def nature_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 8, stride=4), nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 512), nn.ReLU(),
    )


class Scaled(nn.Module):
    """Nature CNN with its input scale of 1/255 (Graft's input_scale)."""

    def __init__(self):
        super().__init__()
        self.net = nature_cnn()

    def forward(self, x):
        return self.net(x * (1.0 / 255.0))


def head(i, h, o, bn=False):
    if h == 0:
        return nn.Linear(i, o)
    layers = [nn.Linear(i, h)] + ([nn.BatchNorm1d(h)] if bn else []) + [nn.ReLU(), nn.Linear(h, o)]
    return nn.Sequential(*layers)


def view_pipeline(jitter, blur_p=0.0, solarize_p=0.0, side=64):
    """One view as a PyTorch user writes it with torchvision's transforms, per image (what a
    DataLoader worker runs): the settings of Graft's `ViewConfig` presets, step for step."""
    steps = [
        v2.RandomResizedCrop(side, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), antialias=True),
        v2.RandomHorizontalFlip(0.5),
        v2.RandomApply([v2.ColorJitter(*jitter)], p=0.8),
        v2.RandomGrayscale(0.2),
    ]
    if blur_p > 0:
        kernel = int(side * 0.1) | 1
        steps.append(v2.RandomApply([v2.GaussianBlur(kernel, sigma=(0.1, 2.0))], p=blur_p))
    if solarize_p > 0:
        steps.append(v2.RandomSolarize(0.5, p=solarize_p))
    return v2.Compose(steps)


# SimCLR's task default (`ViewConfig::simclr_cifar`) and BYOL's asymmetric pair
# (`ViewConfig::byol`).
SIMCLR_VIEWS = (view_pipeline((0.4, 0.4, 0.4, 0.1)), view_pipeline((0.4, 0.4, 0.4, 0.1)))
BYOL_VIEWS = (view_pipeline((0.4, 0.4, 0.2, 0.1), blur_p=1.0),
              view_pipeline((0.4, 0.4, 0.2, 0.1), blur_p=0.1, solarize_p=0.2))


def views(x, pipes):
    """Both views of the batch `x` (floats in [0, 1]), stacked: [2B, C, H, W]."""
    return torch.cat([torch.stack([pipe(img) for img in x]) for pipe in pipes])


def nt_xent(z1, z2, t):
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1, eps=1e-12)
    sim = z @ z.t() / t
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool), -1e9)
    idx = torch.arange(b)
    return F.cross_entropy(sim, torch.cat([idx + b, idx]))


def norm_mse(p, z):
    return 2 - 2 * F.cosine_similarity(p, z.detach(), dim=1, eps=1e-8).mean()


class Block(nn.Module):
    """Pre-norm transformer block (torchvision's EncoderBlock layout)."""

    def __init__(self, d, heads, eps):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.in_proj = nn.Linear(d, 3 * d)
        self.out_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.in_proj(self.ln_1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        x = x + self.out_proj(a)
        return x + self.fc2(F.gelu(self.fc1(self.ln_2(x))))


class Mae(nn.Module):
    def __init__(self, width=192, heads=3, depth=4, patch=8, side=64, dw=128, ddepth=2, dheads=4):
        super().__init__()
        self.p, self.n = patch, (side // patch) ** 2
        self.conv_proj = nn.Conv2d(3, width, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, self.n + 1, width) * 0.02)
        self.blocks = nn.ModuleList([Block(width, heads, 1e-6) for _ in range(depth)])
        self.ln = nn.LayerNorm(width, eps=1e-6)
        self.embed = nn.Linear(width, dw)
        self.mask_token = nn.Parameter(torch.randn(1, 1, dw) * 0.02)
        self.dpos = nn.Parameter(torch.randn(1, self.n, dw) * 0.02)
        self.dblocks = nn.ModuleList([Block(dw, dheads, 1e-6) for _ in range(ddepth)])
        self.dln = nn.LayerNorm(dw, eps=1e-5)
        self.pred = nn.Linear(dw, patch * patch * 3)

    def forward(self, x, ratio=0.75, lean=False):
        b, n = x.shape[0], self.n
        keep_n = max(round(n * (1 - ratio)), 1)
        shuffle = torch.rand(b, n).argsort(1)
        restore = shuffle.argsort(1)
        keep = shuffle[:, :keep_n]
        p = self.p
        g = x.shape[2] // p
        if lean:
            # Graft's step: embed only the kept patches (the conv weights as a matrix).
            w = self.conv_proj.weight
            patches = x.view(b, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, 3 * p * p)
            kept = patches.gather(1, keep.unsqueeze(-1).expand(-1, -1, 3 * p * p))
            t = F.linear(kept, w.view(w.shape[0], -1), self.conv_proj.bias)
            d = t.shape[2]
            t = t + self.pos[:, 1:].expand(b, -1, -1).gather(1, keep.unsqueeze(-1).expand(-1, -1, d))
        else:
            t = self.conv_proj(x).flatten(2).transpose(1, 2) + self.pos[:, 1:]
            d = t.shape[2]
            t = t.gather(1, keep.unsqueeze(-1).expand(-1, -1, d))
        t = torch.cat([(self.cls + self.pos[:, :1]).expand(b, -1, -1), t], 1)
        for blk in self.blocks:
            t = blk(t)
        t = self.ln(t)
        vis = self.embed(t[:, 1:])
        dw = vis.shape[2]
        full = torch.cat([vis, self.mask_token.expand(b, n - keep_n, dw)], 1)
        y = full.gather(1, restore.unsqueeze(-1).expand(-1, -1, dw)) + self.dpos
        for blk in self.dblocks:
            y = blk(y)
        target = x.view(b, 3, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(b, g * g, p * p * 3)
        if lean:
            # Graft's step: pixels and targets for the hidden patches only.
            hid = shuffle[:, keep_n:].unsqueeze(-1)
            pred = self.pred(self.dln(y.gather(1, hid.expand(-1, -1, dw))))
            target = target.gather(1, hid.expand(-1, -1, p * p * 3))
            mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True, unbiased=True)
            return (pred - (target - mean) / (var + 1e-6).sqrt()).square().mean()
        pred = self.pred(self.dln(y))
        mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True, unbiased=True)
        target = (target - mean) / (var + 1e-6).sqrt()
        hidden = (restore >= keep_n).float()
        per = (pred - target).square().mean(-1)
        return (per * hidden).sum() / hidden.sum()


def make_case(name):
    torch.manual_seed(0)
    frames = torch.randint(256, (800, 64, 64, 3), dtype=torch.uint8)
    actions = torch.randint(2, (800,))
    images = torch.randint(256, (512, 3, 64, 64), dtype=torch.uint8)
    if name.startswith("inverse_dynamics"):
        enc, hd = Scaled(), head(1024, 256, 2)
        params = list(enc.parameters()) + list(hd.parameters())

        def loss(idx, _):
            obs, nxt = frames[idx], frames[idx + 1]
            x = torch.cat([obs.permute(0, 3, 1, 2).float() / 255 * 255, nxt.permute(0, 3, 1, 2).float() / 255 * 255])
            z = enc(x)
            return F.cross_entropy(hd(torch.cat([z[:B], z[B:]], 1)), actions[idx])
        return loss, params, None, 799
    if name.startswith("rotation"):
        enc, hd = Scaled(), nn.Linear(512, 4)
        params = list(enc.parameters()) + list(hd.parameters())

        def loss(idx, _):
            x = images[idx].float() / 255
            x4 = torch.cat([torch.rot90(x, k, (2, 3)) for k in range(4)]) * 255
            labels = torch.arange(4).repeat_interleave(B)
            return F.cross_entropy(hd(enc(x4)), labels)
        return loss, params, None, 512
    if name.startswith("simclr"):
        enc, proj = Scaled(), head(512, 512, 128)
        params = list(enc.parameters()) + list(proj.parameters())

        def loss(idx, _):
            x = images[idx].float() / 255
            v = views(x, SIMCLR_VIEWS) * 255
            z = proj(enc(v))
            return nt_xent(z[:B], z[B:], 0.5)
        return loss, params, None, 512
    if name.startswith("byol"):
        enc, proj, pred = Scaled(), head(512, 512, 128, True), head(128, 512, 128, True)
        tenc, tproj = copy.deepcopy(enc), copy.deepcopy(proj)
        for p in list(tenc.parameters()) + list(tproj.parameters()):
            p.requires_grad_(False)
        params = list(enc.parameters()) + list(proj.parameters()) + list(pred.parameters())
        pairs = [(t, o) for t, o in zip(list(tenc.state_dict().values()) + list(tproj.state_dict().values()),
                                         list(enc.state_dict().values()) + list(proj.state_dict().values()))
                 if t.is_floating_point()]

        def loss(idx, _):
            x = images[idx].float() / 255
            v = views(x, BYOL_VIEWS) * 255
            p = pred(proj(enc(v)))
            with torch.no_grad():
                z = tproj(tenc(v))
            return norm_mse(p[:B], z[B:]) + norm_mse(p[B:], z[:B])

        def ema(step):
            m = 1 - (1 - 0.996) * (math.cos(math.pi * step / 1e6) + 1) / 2
            with torch.no_grad():
                for t, o in pairs:
                    t.lerp_(o, 1 - m)
        return loss, params, ema, 512
    if name.startswith("mae"):
        model = Mae()
        params = list(model.parameters())
        lean = name.startswith("mae_lean")

        def loss(idx, _):
            return model(images[idx].float() / 255, lean=lean)
        return loss, params, None, 512
    raise ValueError(name)


CASES = ["inverse_dynamics_nature_cnn_64_b32", "rotation_nature_cnn_64_b32", "simclr_nature_cnn_64_b32",
         "byol_nature_cnn_64_b32", "mae_vit_64_p8_b32", "mae_lean_vit_64_p8_b32"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name in CASES:
        if args.only and args.only not in name:
            continue
        loss_fn, params, after, n = make_case(name)
        opt = torch.optim.Adam(params, lr=1e-4)
        state = {"step": 0, "perm": torch.randperm(n).tolist()}

        def step():
            s = state["step"]
            pos = (s % (n // B)) * B
            idx = torch.tensor(state["perm"][pos:pos + B])
            torch.manual_seed(s)
            loss = loss_fn(idx, s)
            lv = loss.item()
            assert math.isfinite(lv)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            if after:
                after(s + 1)
            state["step"] = s + 1

        for _ in range(args.warmup):
            step()
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < args.seconds or len(times) < 3:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        print(f"RESULT {name} {B / statistics.median(times):.1f} {B / min(times):.1f}", flush=True)


if __name__ == "__main__":
    main()
