#!/usr/bin/python3
"""A classifier whose predictions have real margins, for comparing model dtypes (issue 17).

Random torchvision weights predict nearly one class, so agreement between float32 and bfloat16
on them says little. This keeps the random convolutions of MODEL (a traced torchvision resnet),
calibrates its batch-norm statistics on the training images (so every layer's activations are
normalized, as in a trained network), and replaces the last layer by a head trained on its
float32 features:
  --head photo     logistic regression on the `label` column, which `sluice datagen` sets to
                   the photograph an image was cut from (default; accuracy on --eval is printed)
  --head clusters  a nearest-centroid classifier over --classes k-means clusters of the features
Saves a traced TorchScript.

  calibrated_classifier.py --model resnet50.pt --arch resnet50 --train 'DIR/*.parquet' --out M.pt
                           [--eval 'DIR/*.parquet'] [--head photo|clusters] [--classes 10]
"""
import argparse

import numpy as np
import torch
import torchvision

import sluice


def batches(glob):
    """(input tensors, labels) of a Parquet glob, preprocessed by sluice (imagenet preset)."""
    ds = sluice.read_parquet(glob, columns=["id", "label", "image"]).preprocess(preset="imagenet")
    for b in ds.iter_batches(batch_size=32, batch_format="torch"):
        yield b["input"], torch.as_tensor(np.asarray(b["label"]), dtype=torch.long)


def calibrate_batch_norm(net, glob):
    """Sets every BatchNorm's running mean and variance to their averages over the images."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average
    net.train()
    with torch.no_grad():
        for x, _ in batches(glob):
            net(x)
    net.eval()


def features(net, glob):
    fs, ys = [], []
    with torch.inference_mode():
        for x, y in batches(glob):
            fs.append(net(x))
            ys.append(y)
    return torch.cat(fs), torch.cat(ys)


def photo_head(f, y):
    """Logistic regression on the labels, over standardized features, folded into one Linear."""
    classes = int(y.max()) + 1
    mean, std = f.mean(0), f.std(0) + 1e-6
    z = (f - mean) / std
    lin = torch.nn.Linear(f.shape[1], classes)
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(z), y)
        loss.backward()
        opt.step()
    head = torch.nn.Linear(f.shape[1], classes)
    with torch.no_grad():  # w.(f - mean)/std + b = (w/std).f + (b - w.(mean/std))
        head.weight.copy_(lin.weight / std)
        head.bias.copy_(lin.bias - lin.weight @ (mean / std))
    return head, f"loss {loss.item():.4f}, {classes} classes"


def cluster_head(f, classes):
    centers = f[torch.randperm(len(f))[:classes]].clone()
    for _ in range(50):  # k-means
        assign = torch.cdist(f, centers).argmin(1)
        for j in range(classes):
            if (assign == j).any():
                centers[j] = f[assign == j].mean(0)
    head = torch.nn.Linear(f.shape[1], classes)
    with torch.no_grad():  # logits = f.c_j - |c_j|^2 / 2: the nearest center wins
        head.weight.copy_(centers)
        head.bias.copy_(-(centers * centers).sum(1) / 2)
    sizes = torch.bincount(torch.cdist(f, centers).argmin(1), minlength=classes).tolist()
    return head, f"cluster sizes {sizes}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--train", required=True)
    ap.add_argument("--eval")
    ap.add_argument("--out", required=True)
    ap.add_argument("--head", choices=["photo", "clusters"], default="photo")
    ap.add_argument("--classes", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(2, torch.get_num_threads()))  # Debian's torch starts with one here
    net = getattr(torchvision.models, a.arch)()
    net.load_state_dict(torch.jit.load(a.model).state_dict())
    net.fc = torch.nn.Identity()
    if a.head == "photo":
        calibrate_batch_norm(net, a.train)
    net.eval()
    f, y = features(net, a.train)
    head, what = photo_head(f, y) if a.head == "photo" else cluster_head(f, a.classes)
    net.fc = head
    line = f"calibrated_classifier: {len(f)} training images, {what}"
    with torch.inference_mode():
        line += f", train accuracy {(head(f).argmax(1) == y).float().mean().item():.3f}"
        if a.eval:
            fe, ye = features(net, a.eval)  # net.fc is the head now: these are logits
            line += f", eval accuracy {(fe.argmax(1) == ye).float().mean().item():.3f}"
    torch.jit.trace(net, torch.randn(1, 3, 224, 224)).save(a.out)
    print(f"{line}; saved {a.out}")


if __name__ == "__main__":
    main()
