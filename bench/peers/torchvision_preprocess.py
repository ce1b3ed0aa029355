#!/usr/bin/python3
"""Peer for bench/preprocess_bench: what a PyTorch user writes, on one core. Every file is read
into memory first; the clock covers Image.open + convert('RGB') + Resize(256) + CenterCrop(224)
+ ToTensor + Normalize, best of --repeat passes.

  torchvision_preprocess.py --dir DIR [--repeat 3]
"""
import argparse
import io
import os
import time

import torch
import torchvision.transforms as T
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    files = [open(os.path.join(a.dir, f), "rb").read() for f in sorted(os.listdir(a.dir)) if f.endswith(".jpg")]
    transform = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                           T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    best = float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for b in files:
            transform(Image.open(io.BytesIO(b)).convert("RGB"))
        best = min(best, time.perf_counter() - t0)
    print(f"torchvision_preprocess images={len(files)} seconds={best:.4f} images_per_s={len(files) / best:.1f} "
          f"mean_kb={sum(map(len, files)) / len(files) / 1024:.1f}")


if __name__ == "__main__":
    main()
