"""torchvision's side of the image loader benchmark (benchmarks/peers/run_images.sh).

    make DIR            write the benchmark data: DIR/folder/<class>/<i>.png (32x32 RGB) and
                        DIR/cifar/data_batch_1.bin holding the same pixels as CIFAR-10 records
    run DIR [...]       time ImageFolder + DataLoader(num_workers=2) with SimCLR's CIFAR
                        transforms on DIR/folder, and the same pipeline over the CIFAR file

The images are smooth random blobs with a little noise, so PNG compression is realistic
(about 2.5 KB per image, as CIFAR PNGs are). The transforms equal Graft's `simclr_cifar`
preset: RandomResizedCrop(32, scale 0.08-1, ratio 3/4-4/3, bilinear, antialias),
RandomHorizontalFlip, RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
RandomGrayscale(0.2), ToTensor, Normalize(ImageNet).
"""
import argparse
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image


def make(out: pathlib.Path, per_class: int, side: int = 32):
    rng = np.random.default_rng(0)
    folder, cifar = out / "folder", out / "cifar"
    cifar.mkdir(parents=True, exist_ok=True)
    records = []
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    for c in range(10):
        (folder / f"class{c}").mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = np.zeros((side, side, 3), np.float32)
            for _ in range(4):
                cy, cx, r = rng.uniform(0, side, 2).tolist() + [rng.uniform(3, side / 2)]
                col = rng.uniform(0, 255, 3)
                w = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
                img = img * (1 - w) + col * w
            img += rng.normal(0, 4, img.shape)
            u8 = np.clip(img, 0, 255).astype(np.uint8)
            Image.fromarray(u8).save(folder / f"class{c}" / f"{i:05d}.png")
            records.append(bytes([c]) + u8.transpose(2, 0, 1).tobytes())
    (cifar / "data_batch_1.bin").write_bytes(b"".join(records))
    print(f"wrote {10 * per_class} images to {folder} and {cifar / 'data_batch_1.bin'}")


def simclr_cifar(size=32):
    return T.Compose(
        [
            T.RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.ToTensor(),
            T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]
    )


class CifarBin(torch.utils.data.Dataset):
    """CIFAR-10 binary records (what torchvision.datasets.CIFAR10 reads from its pickles)."""

    def __init__(self, path, transform):
        raw = np.fromfile(path, np.uint8).reshape(-1, 3073)
        self.labels = raw[:, 0].astype(np.int64)
        self.images = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def time_loader(ds, batch, workers, batches):
    loader = torch.utils.data.DataLoader(
        ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=workers > 0
    )
    it = iter(loader)
    next(it)  # warm-up: workers start, first batch
    t0 = time.perf_counter()
    done = 0
    while done < batches:
        try:
            next(it)
            done += 1
        except StopIteration:
            it = iter(loader)
    return batches * batch / (time.perf_counter() - t0)


def run(args):
    torch.set_num_threads(1)
    root = pathlib.Path(args.dir)
    folder = torchvision.datasets.ImageFolder(root / "folder", transform=simclr_cifar())
    cifar = CifarBin(root / "cifar" / "data_batch_1.bin", simclr_cifar())
    for name, ds in [("folder", folder), ("cifar", cifar)]:
        rates = [time_loader(ds, args.batch, args.workers, args.batches) for _ in range(args.repeats)]
        print(f"RESULT torchvision_{name} {statistics.median(rates):.1f}  (runs: {', '.join(f'{r:.0f}' for r in rates)})")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("--per-class", type=int, default=512)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--batch", type=int, default=256)
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--batches", type=int, default=10)
    r.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if args.cmd == "make":
        make(pathlib.Path(args.dir), args.per_class)
    else:
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}", file=sys.stderr)
        run(args)


if __name__ == "__main__":
    main()
