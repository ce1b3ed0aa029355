#!/usr/bin/python3
"""Parity of `sluice preprocess` with torchvision's PIL path, on real photographs and variants
made from them (progressive, grayscale, CMYK, PNG with alpha, 16-bit PNG, palette PNG, WebP,
1x1, very elongated, EXIF-rotated).

For each image: torchvision = Resize(256) + CenterCrop(224) on Image.open(f).convert('RGB');
sluice = `sluice preprocess f --dtype uint8 --layout nhwc`. Exact mode must be bit-exact: max
difference 0 for every image (issue 4 allowed 3 gray levels; the decoder and resampler have
matched exactly since, and JPEGs decoded in part (issue 17) must stay so). The full float
tensor (ToTensor + Normalize) is compared too, and the `fast` mode's deviation is printed (not
bounded). The JPEG variants cover the chroma subsamplings, odd sizes, progressive and large
images, where the partial decode skips rows and crops iMCU columns.

  torchvision_parity.py --sluice BIN --photos DIR --work DIR     prints "N passed, M failed"
"""
import argparse
import io
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image, ImageOps
from torchvision.transforms import InterpolationMode

IMAGENET = T.Compose([T.Resize(256), T.CenterCrop(224)])
TO_TENSOR = T.Compose([T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def make_variants(photos, out):
    """Writes the test set into `out`; returns the file paths."""
    os.makedirs(out, exist_ok=True)
    paths = []
    for name in sorted(os.listdir(photos)):
        if name.startswith("."):
            continue
        src = os.path.join(photos, name)
        paths.append(src)  # the photograph as Debian ships it
    base = Image.open(os.path.join(photos, "china.jpg")).convert("RGB")
    gray = Image.open(os.path.join(photos, "camera.png"))
    rgba = Image.open(os.path.join(photos, "astronaut.png")).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))

    def save(img, name, **kw):
        path = os.path.join(out, name)
        img.save(path, **kw)
        paths.append(path)

    save(base.resize((500, 375)), "imagenet_like_q90.jpg", quality=90)
    save(base.resize((375, 500)), "portrait_q75.jpg", quality=75)
    save(base, "progressive.jpg", quality=85, progressive=True)
    save(base.convert("L"), "grayscale.jpg", quality=90)
    save(base.convert("CMYK"), "cmyk.jpg", quality=90)
    save(base.resize((333, 250)), "subsampling_444.jpg", quality=95, subsampling=0)
    save(base.resize((517, 389)), "odd_size_420.jpg", quality=88)
    save(base.resize((517, 389)), "odd_size_422.jpg", quality=88, subsampling=1)
    save(base.resize((389, 517)).convert("L"), "odd_size_gray.jpg", quality=90)
    save(base.resize((1400, 1050)), "large_420.jpg", quality=90)
    save(base.resize((1050, 1400)), "large_portrait_progressive.jpg", quality=90, progressive=True)
    save(base.resize((1201, 803)), "large_444_progressive.jpg", quality=92, subsampling=0, progressive=True)
    save(rgba, "alpha.png")
    save(Image.fromarray((np.asarray(gray).astype(np.uint16) * 64)), "gray16.png")  # mode I;16
    save(base.convert("P", palette=Image.ADAPTIVE, colors=64), "palette.png")
    save(base.convert("LA"), "gray_alpha.png")
    save(base, "lossy.webp", quality=80)
    save(rgba, "alpha.webp", lossless=True)
    save(base.resize((1, 1)), "one_pixel.png")
    save(base.resize((1, 1)), "one_pixel.jpg", quality=90)
    save(base.resize((2000, 60)), "wide.jpg", quality=90)
    save(base.resize((60, 2000)), "tall.png")
    save(base.resize((256, 256)), "already_256.jpg", quality=90)
    save(base.resize((180, 120)), "smaller_than_crop.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    save(base.resize((500, 375)), "exif_rotated.jpg", quality=90, exif=exif)
    return paths


def check(results, name, ref, got):
    """Records one comparison of two uint8 images against the issue's bounds."""
    d = np.abs(ref.astype(np.int32) - got.astype(np.int32))
    ok = ref.shape == got.shape and d.max() == 0
    print(f"{'ok' if ok else 'FAIL'} {name}: mean {d.mean():.4f} max {d.max()}")
    results.append(ok)


def sluice_preprocess(binary, path, out, *flags):
    subprocess.run([binary, "preprocess", path, "--out", out, *flags], check=True, capture_output=True, timeout=60)
    return np.load(out)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--photos", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    paths = make_variants(a.photos, os.path.join(a.work, "images"))
    npy = os.path.join(a.work, "out.npy")
    passed = failed = 0
    fast_means, fast_maxes = [], []
    for path in paths:
        name = os.path.basename(path)
        try:
            img = Image.open(path).convert("RGB")
            ref = np.asarray(IMAGENET(img)).astype(np.int32)
            got = sluice_preprocess(a.sluice, path, npy, "--dtype", "uint8", "--layout", "nhwc").astype(np.int32)
            d = np.abs(ref - got)
            ref_t = TO_TENSOR(IMAGENET(img)).numpy()
            got_t = sluice_preprocess(a.sluice, path, npy)
            dt = float(np.abs(ref_t - got_t).max())
            fast = sluice_preprocess(a.sluice, path, npy, "--dtype", "uint8", "--layout", "nhwc", "--mode", "fast").astype(np.int32)
            df = np.abs(ref - fast)
            fast_means.append(df.mean())
            fast_maxes.append(df.max())
            ok = d.max() == 0 and dt == 0 and got_t.shape == (3, 224, 224)
            status = "ok" if ok else "FAIL"
            print(f"{status} {name} {img.size}: uint8 mean {d.mean():.4f} max {d.max()}; float max {dt:.2e}; "
                  f"fast mean {df.mean():.3f} max {df.max()}")
        except Exception as e:  # a crash of sluice or a decode error is a failure, with its reason
            ok = False
            err = getattr(e, "stderr", b"") or b""
            print(f"FAIL {name}: {e} {err.decode(errors='replace')}")
        passed += ok
        failed += not ok
    # Other interpolations and EXIF orientation, on a few images.
    extra = []
    for path in paths[:4] + [p for p in paths if p.endswith(("cmyk.jpg", "alpha.png", "wide.jpg"))]:
        img = Image.open(path).convert("RGB")
        for mode, flag in ((InterpolationMode.BICUBIC, "bicubic"), (InterpolationMode.NEAREST, "nearest")):
            ref = np.asarray(T.CenterCrop(224)(T.Resize(256, interpolation=mode)(img)))
            got = sluice_preprocess(a.sluice, path, npy, "--dtype", "uint8", "--layout", "nhwc", "--interpolation", flag)
            check(extra, f"{os.path.basename(path)} {flag}", ref, got)
    rotated = [p for p in paths if p.endswith("exif_rotated.jpg")][0]
    img = Image.open(rotated)
    ref = np.asarray(IMAGENET(ImageOps.exif_transpose(img).convert("RGB")))
    got = sluice_preprocess(a.sluice, rotated, npy, "--dtype", "uint8", "--layout", "nhwc", "--exif-orientation", "true")
    check(extra, "exif_rotated.jpg --exif-orientation true", ref, got)
    passed += sum(extra)
    failed += len(extra) - sum(extra)
    if fast_means:
        print(f"fast mode vs torchvision over {len(fast_means)} images: mean abs diff {np.mean(fast_means):.3f} "
              f"(worst image {np.max(fast_means):.3f}), max {int(np.max(fast_maxes))}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
