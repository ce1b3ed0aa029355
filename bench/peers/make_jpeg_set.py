#!/usr/bin/python3
"""An ImageNet-like JPEG set from real photographs (scripts/fetch_photos.sh): random crops and
scales, mostly 500x375 or 375x500, some large and some small, a few grayscale, qualities 75-95.
Deterministic by seed. Used by bench/run_preprocess.sh until `sluice datagen jpeg` exists.

  make_jpeg_set.py --photos DIR --out DIR [--images 300] [--seed 0]
"""
import argparse
import os
import random

from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    sources = [Image.open(os.path.join(a.photos, f)).convert("RGB") for f in sorted(os.listdir(a.photos))
               if not f.startswith(".") and f not in ("camera.png",)]
    sources = [s for s in sources if min(s.size) >= 400]
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.images):
        src = rng.choice(sources)
        r = rng.random()
        size = (500, 375) if r < 0.6 else (375, 500) if r < 0.8 else (rng.randint(800, 1600), rng.randint(600, 1200)) if r < 0.9 else (rng.randint(150, 320), rng.randint(120, 300))
        scale = rng.uniform(0.6, 1.0)
        cw, ch = int(src.width * scale), int(src.height * scale)
        x, y = rng.randint(0, src.width - cw), rng.randint(0, src.height - ch)
        img = src.crop((x, y, x + cw, y + ch)).resize(size, Image.BICUBIC)
        if rng.random() < 0.03:
            img = img.convert("L")
        img.save(os.path.join(a.out, f"img_{i:05d}.jpg"), quality=rng.randint(75, 95))


if __name__ == "__main__":
    main()
