#!/usr/bin/python3
"""Where preprocessing time goes in the pipelines users write, one core, the same files as
bench/preprocess_bench --breakdown: per step (decode / resize / crop / normalize) the share of
the time and the images/s of the whole, for
  pil          Image.open + convert("RGB"), torchvision Resize(256) (antialiased bilinear),
               CenterCrop(224), ToTensor + Normalize
  tvio         torchvision.io.decode_jpeg on the bytes (uint8 CHW tensor), then the tensor
               transforms resize(256, antialias=True), center_crop(224), float / 255 + normalize
  opencv       cv2.imdecode + cvtColor BGR->RGB, cv2.resize INTER_AREA to the short side 256,
               a slice for the crop, float32 / 255 - mean / std and HWC->CHW
               (skipped with a note when python3-opencv is not installed)
Every file is read into memory first; each step is timed with perf_counter; best of --repeat.
--deviation SLUICE_BIN: the uint8 224x224 crops of OpenCV (INTER_AREA and INTER_LINEAR) and of
sluice's fast and exact modes (`sluice preprocess --dtype uint8 --layout nhwc`) against PIL +
torchvision's on the first --deviation-images files: mean absolute difference (mean over the
images and the worst image) and the largest pixel difference.

  preprocess_breakdown.py --dir DIR [--repeat 3] [--only pil,tvio,opencv] [--deviation SLUICE_BIN]
"""
import argparse
import importlib.util
import io
import os
import subprocess
import tempfile
import time

import numpy as np
import torch
import torchvision.transforms.functional as F
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def pil_steps(b):
    img = Image.open(io.BytesIO(b)).convert("RGB")
    yield "decode"
    img = F.resize(img, 256)
    yield "resize"
    img = F.center_crop(img, 224)
    yield "crop"
    F.normalize(F.to_tensor(img), MEAN, STD)
    yield "normalize"


def tvio_steps(b):
    from torchvision.io import ImageReadMode, decode_jpeg
    x = decode_jpeg(b, mode=ImageReadMode.RGB)  # b: the file as a uint8 tensor (torchvision.io.read_file's form)
    yield "decode"
    x = F.resize(x, 256, antialias=True)
    yield "resize"
    x = F.center_crop(x, 224)
    yield "crop"
    F.normalize(x.float().div_(255), MEAN, STD)
    yield "normalize"


def opencv_steps(b):
    import cv2
    img = cv2.cvtColor(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    yield "decode"
    h, w = img.shape[:2]
    s = 256 / min(h, w)
    img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    yield "resize"
    h, w = img.shape[:2]
    top, left = (h - 224) // 2, (w - 224) // 2
    img = img[top:top + 224, left:left + 224]
    yield "crop"
    ((img.astype(np.float32) / 255 - np.float32(MEAN)) / np.float32(STD)).transpose(2, 0, 1).copy()
    yield "normalize"


def measure(files, steps, repeat):
    best, best_split = float("inf"), None
    for _ in range(repeat):
        split = {"decode": 0.0, "resize": 0.0, "crop": 0.0, "normalize": 0.0}
        t_all = time.perf_counter()
        for b in files:
            t = time.perf_counter()
            for step in steps(b):
                now = time.perf_counter()
                split[step] += now - t
                t = now
        took = time.perf_counter() - t_all
        if took < best:
            best, best_split = took, split
    return best, best_split


def opencv_crop(b, interpolation):
    import cv2
    img = cv2.cvtColor(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    s = 256 / min(h, w)
    img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interpolation)
    h, w = img.shape[:2]
    top, left = (h - 224) // 2, (w - 224) // 2
    return img[top:top + 224, left:left + 224]


def deviation(files, names, directory, binary, count):
    import cv2
    ref = [np.asarray(F.center_crop(F.resize(Image.open(io.BytesIO(b)).convert("RGB"), 256), 224)).astype(np.int32) for b in files[:count]]

    def sluice_crop(name, mode):
        with tempfile.NamedTemporaryFile(suffix=".npy") as out:
            subprocess.run([binary, "preprocess", os.path.join(directory, name), "--out", out.name, "--dtype", "uint8", "--layout", "nhwc",
                            "--mode", mode], check=True, capture_output=True)
            return np.load(out.name)[0]

    others = {
        "opencv_area": [opencv_crop(b, cv2.INTER_AREA) for b in files[:count]],
        "opencv_linear": [opencv_crop(b, cv2.INTER_LINEAR) for b in files[:count]],
        "sluice_fast": [sluice_crop(n, "fast") for n in names[:count]],
        "sluice_exact": [sluice_crop(n, "exact") for n in names[:count]],
    }
    for name, crops in others.items():
        means, maxes = [], []
        for r, c in zip(ref, crops):
            d = np.abs(r - c.astype(np.int32)) if r.shape == c.shape else np.full(r.shape, 255)
            means.append(d.mean())
            maxes.append(d.max())
        print(f"deviation {name} vs PIL+torchvision over {len(ref)} images: mean {np.mean(means):.3f} worst image {np.max(means):.3f} "
              f"max pixel {int(np.max(maxes))}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="pil,tvio,opencv")
    ap.add_argument("--deviation", default="")
    ap.add_argument("--deviation-images", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(1)
    names = [f for f in sorted(os.listdir(a.dir)) if f.endswith(".jpg")]
    files = [open(os.path.join(a.dir, f), "rb").read() for f in names]
    if a.deviation:
        deviation(files, names, a.dir, a.deviation, a.deviation_images)
        return
    runners = {"pil": pil_steps, "tvio": tvio_steps, "opencv": opencv_steps}
    for name in a.only.split(","):
        if name == "opencv":
            if importlib.util.find_spec("cv2") is None:
                print("breakdown opencv not measured: python3-opencv is not installed")
                continue
        inputs = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in files] if name == "tvio" else files
        took, split = measure(inputs, runners[name], a.repeat)
        total = sum(split.values())
        shares = " ".join(f"{k}={100 * v / total:.1f}%" for k, v in split.items())
        print(f"breakdown {name} {shares} us_per_image={1e6 * took / len(files):.1f} images_per_s={len(files) / took:.1f}")


if __name__ == "__main__":
    main()
