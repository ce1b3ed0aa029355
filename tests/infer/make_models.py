#!/usr/bin/python3
"""Test models and expected outputs from Debian's PyTorch (1.13): traced TorchScript files with
random weights from a fixed seed, inputs, and what PyTorch in Python computes for them.

  make_models.py --out DIR [--resnet50]     (resnet50 only for benchmarks: large)

DIR/tiny.pt        a small CNN, 10 classes, input [N, 3, 32, 32]
DIR/resnet18.pt    torchvision resnet18 (random weights), input [N, 3, 224, 224]
DIR/resnet18_one_class.pt  resnet18 whose last layer favors class 7 by 20 (predictions that
                   bfloat16 keeps: model.dtype auto's trial passes)
DIR/bf16_fails_on_3_rows.pt  a scripted model (10 outputs) that raises for a bfloat16 batch of
                   exactly 3 rows (model.dtype auto must then keep float32)
DIR/throws.pt      a scripted model that raises when its input holds a negative first value
DIR/stalls.pt      a scripted model that never returns for a batch of exactly 8 rows (a hung model)
DIR/<model>_input.npy, <model>_logits.npy, <model>_top5_ids.npy, <model>_top5_scores.npy
"""
import argparse
import os

import numpy as np
import torch
import torchvision


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


class Throws(torch.nn.Module):
    def forward(self, x):
        if bool(x.flatten()[0] < 0):
            raise RuntimeError("the model refuses negative inputs")
        return x.flatten(1)[:, :10]


class Stalls(torch.nn.Module):
    def forward(self, x):
        n = x.size(0)
        while n == 8:  # spins forever: what a deadlocked kernel or a hung device looks like
            x = x + 0.0
        return x.flatten(1)[:, :10]


class BFloat16FailsOn3Rows(torch.nn.Module):
    def forward(self, x):
        if x.dtype == torch.bfloat16 and x.size(0) == 3:
            raise RuntimeError("no bfloat16 batches of 3 rows")
        return x.float().flatten(1)[:, :10] * 2.0


def save_expected(out, name, model, x):
    with torch.no_grad():
        logits = model(x)
    scores, ids = torch.softmax(logits, 1).topk(5, 1)
    np.save(os.path.join(out, f"{name}_input.npy"), x.numpy())
    np.save(os.path.join(out, f"{name}_logits.npy"), logits.numpy())
    np.save(os.path.join(out, f"{name}_top5_ids.npy"), ids.int().numpy())
    np.save(os.path.join(out, f"{name}_top5_scores.npy"), scores.numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--resnet50", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    tiny = Tiny().eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so freezing has work to do
        tiny.bn.running_mean.uniform_(-0.5, 0.5)
        tiny.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(4, 3, 32, 32)
    torch.jit.trace(tiny, x).save(os.path.join(a.out, "tiny.pt"))
    save_expected(a.out, "tiny", tiny, x)
    torch.jit.script(Throws()).save(os.path.join(a.out, "throws.pt"))
    torch.jit.script(Stalls()).save(os.path.join(a.out, "stalls.pt"))
    torch.jit.script(BFloat16FailsOn3Rows()).save(os.path.join(a.out, "bf16_fails_on_3_rows.pt"))
    torch.manual_seed(0)
    r18 = torchvision.models.resnet18().eval()
    x = torch.randn(2, 3, 224, 224)
    torch.jit.trace(r18, x).save(os.path.join(a.out, "resnet18.pt"))
    save_expected(a.out, "resnet18", r18, x)
    with torch.no_grad():
        r18.fc.bias[7] += 20
    torch.jit.trace(r18, x).save(os.path.join(a.out, "resnet18_one_class.pt"))
    if a.resnet50:
        torch.manual_seed(0)
        r50 = torchvision.models.resnet50().eval()
        torch.jit.trace(r50, torch.randn(1, 3, 224, 224)).save(os.path.join(a.out, "resnet50.pt"))
    with open(os.path.join(a.out, "not_a_model.pt"), "w") as f:
        f.write("this is not TorchScript\n")
    open(os.path.join(a.out, ".complete"), "w").close()


if __name__ == "__main__":
    main()
