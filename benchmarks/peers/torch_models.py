#!/usr/bin/env python3
"""PyTorch eager peer of benchmarks/models.rs: forward + backward images/s on CPU.

Same networks, batch sizes, loss (cross-entropy on fixed random labels, zero_grad, no
optimiser step) and thread count (2) as the criterion bench. ResNet-18 and ViT-Ti/16 are
torchvision's; the Nature-DQN CNN is written out (Mnih et al. 2015). Inception-v3 runs in
training mode, so torchvision returns (logits, aux_logits) and the loss adds the auxiliary
cross-entropy with weight 0.4, as Graft's bench and fine-tuning step do. Prints one
"RESULT <name> <median images/s> <best images/s>" line per model (over timed iterations;
on a shared machine the best iteration is the figure least disturbed by other load).
"""

import argparse
import statistics
import time

import torch
import torch.nn as nn
import torchvision


def nature_cnn(actions=18):
    return nn.Sequential(
        nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(),
        nn.Linear(512, actions),
    )


def vit_tiny():
    return torchvision.models.VisionTransformer(
        image_size=224, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768)


CASES = [
    ("resnet18_32x32_b128", lambda: torchvision.models.resnet18(), (128, 3, 32, 32), 1000),
    ("nature_cnn_84x84_b256", nature_cnn, (256, 4, 84, 84), 18),
    ("vit_tiny_224_b16", vit_tiny, (16, 3, 224, 224), 1000),
    ("inception_v3_299_b32", lambda: torchvision.models.inception_v3(init_weights=True),
     (32, 3, 299, 299), 1000),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0, help="timed seconds per model")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"threads {torch.get_num_threads()}")
    for name, make, shape, classes in CASES:
        if args.only not in name:
            continue
        model = make().train()
        x = torch.rand(shape)
        y = torch.randint(classes, (shape[0],))
        loss_fn = nn.CrossEntropyLoss()

        def step():
            model.zero_grad(set_to_none=False)
            out = model(x)
            if isinstance(out, tuple):  # Inception-v3 in training: (logits, aux_logits)
                loss = loss_fn(out[0], y) + 0.4 * loss_fn(out[1], y)
            else:
                loss = loss_fn(out, y)
            loss.backward()

        for _ in range(args.warmup):
            step()
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < args.seconds or len(times) < 3:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        median, best = shape[0] / statistics.median(times), shape[0] / min(times)
        print(f"RESULT {name} {median:.2f} {best:.2f}", flush=True)


if __name__ == "__main__":
    main()
