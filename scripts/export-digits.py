#!/usr/bin/env python3
"""Export scikit-learn's bundled `digits` dataset (1797 handwritten digits, 8x8, grey levels
0..16; UCI "Optical Recognition of Handwritten Digits") to an ImageFolder that Graft reads:

    OUT/<digit>/<index>.png      e.g. OUT/3/0013.png  (8-bit grey, 0..16 scaled to 0..255)

The data ships inside the scikit-learn package, so nothing is downloaded. The output is
deterministic (same bytes on every run). PNGs are written with the standard library only.

    python scripts/export-digits.py OUT        # with a python that has scikit-learn
    $(scripts/test-python-deps.sh) scripts/export-digits.py OUT
"""
import argparse
import pathlib
import struct
import sys
import zlib

from sklearn.datasets import load_digits


def png_grey(pixels, height, width):
    """An 8-bit greyscale PNG: signature, IHDR, one IDAT (filter 0 per row), IEND."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(pixels[y * width : (y + 1) * width]) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=pathlib.Path, help="output folder (created; must be empty or absent)")
    args = ap.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        sys.exit(f"export-digits: {args.out} is not empty")
    digits = load_digits()
    for index, (img, label) in enumerate(zip(digits.images, digits.target)):
        # 0..16 → 0..255, rounding half up (16 → 255).
        pixels = [int(v * 255 / 16 + 0.5) for v in img.flatten()]
        folder = args.out / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index:04d}.png").write_bytes(png_grey(pixels, 8, 8))
    print(f"{len(digits.images)} images in {len(set(digits.target.tolist()))} classes written to {args.out}")


if __name__ == "__main__":
    main()
