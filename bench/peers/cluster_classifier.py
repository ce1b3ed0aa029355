#!/usr/bin/python3
"""A classifier whose predictions are not degenerate, for comparing model dtypes (issue 17):
random torchvision weights predict nearly one class, so agreement between float32 and
bfloat16 on them says little. This keeps the convolutions of MODEL (a traced torchvision
resnet) and replaces its last layer by a nearest-centroid classifier over --classes k-means
clusters of its own float32 features on the training images (generated from a dozen photographs,
so the clusters are real structure): logits = f.c_j - |c_j|^2 / 2. Saves a traced TorchScript.

  cluster_classifier.py --model resnet50.pt --arch resnet50 --train 'DIR/*.parquet' --out M.pt [--classes 10]
"""
import argparse

import torch
import torchvision

import sluice


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--train", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(torch.get_num_threads() if torch.get_num_threads() > 1 else 2)
    net = getattr(torchvision.models, a.arch)()
    net.load_state_dict(torch.jit.load(a.model).state_dict())
    net.eval()
    fc = net.fc
    net.fc = torch.nn.Identity()
    feats = []
    with torch.inference_mode():
        for b in sluice.read_parquet(a.train).preprocess(preset="imagenet").iter_batches(batch_size=32, batch_format="torch"):
            feats.append(net(b["input"]))
    f = torch.cat(feats)
    centers = f[torch.randperm(len(f))[:a.classes]].clone()
    for _ in range(50):  # k-means
        assign = torch.cdist(f, centers).argmin(1)
        for j in range(a.classes):
            if (assign == j).any():
                centers[j] = f[assign == j].mean(0)
    sizes = torch.bincount(torch.cdist(f, centers).argmin(1), minlength=a.classes).tolist()
    head = torch.nn.Linear(f.shape[1], a.classes)
    with torch.no_grad():
        head.weight.copy_(centers)
        head.bias.copy_(-(centers * centers).sum(1) / 2)
    net.fc = head
    del fc
    torch.jit.trace(net, torch.randn(1, 3, 224, 224)).save(a.out)
    print(f"cluster_classifier: {len(f)} training images, cluster sizes {sizes}, saved {a.out}")


if __name__ == "__main__":
    main()
