#!/usr/bin/env python3
"""PyTorch DDP peer of `graft dist check`: samples/s of the same data-parallel training step.

Same network (conv 1->8 3x3, ReLU, conv 8->8 3x3 stride 2, ReLU, linear 128->10 on 1x8x8
inputs), synthetic task, loss (cross-entropy), optimiser (SGD, lr 0.05, momentum 0.9), batch
per process and one intra-op thread per process, with DistributedDataParallel over Gloo on
127.0.0.1 (default 25 MB buckets). Samples/s counts every rank's samples, timed on rank 0
from the second step on, as Graft's check does. Prints "RESULT ddp <nproc> <samples/s>".
"""

import argparse
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

SIDE, CLASSES = 8, 10


def model():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * (SIDE // 2) ** 2, CLASSES),
    )


def worker(rank, args, port):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    world = args.nproc
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(args.seed)
    x_all = torch.randn(args.dataset, 1, SIDE, SIDE)
    y_all = (x_all.flatten(1) @ torch.randn(SIDE * SIDE, CLASSES)).argmax(1)
    torch.manual_seed(args.seed + 1)
    net = model()
    if world > 1:
        net = DistributedDataParallel(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    per_epoch = args.dataset // world // args.batch
    g = torch.Generator()
    t0 = None
    for step in range(args.steps):
        if step == 1:
            t0 = time.perf_counter()
        epoch, at = divmod(step, per_epoch)
        g.manual_seed(args.seed + epoch)
        perm = torch.randperm(args.dataset, generator=g)[: per_epoch * world * args.batch]
        idx = perm[rank::world][at * args.batch:(at + 1) * args.batch]
        loss = nn.functional.cross_entropy(net(x_all[idx]), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if world > 1:
        dist.barrier()
    if rank == 0:
        secs = time.perf_counter() - t0
        print(f"RESULT ddp {world} {(args.steps - 1) * args.batch * world / secs:.1f}", flush=True)
    if world > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nproc", type=int, default=1)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--dataset", type=int, default=16384)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if args.nproc == 1:
        worker(0, args, port)
    else:
        mp.spawn(worker, args=(args, port), nprocs=args.nproc)


if __name__ == "__main__":
    main()
