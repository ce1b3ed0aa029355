#!/usr/bin/python3
"""Dynamic int8 quantization (torch.ao.quantization.quantize_dynamic) on a torchvision resnet, the
CPU option libtorch has without calibration data (issue 17): it quantizes nn.Linear (and RNN)
layers only, so on a resnet it touches the last layer alone. Times the float32 model and the
quantized one, both traced, frozen and optimized for inference as sluice runs them, on random
[B, 3, 224, 224] batches (the fastest of 2 x --runs, interleaved, each after two warm-ups), and
prints which modules were quantized.

  int8_dynamic.py --model resnet50_photo.pt --arch resnet50 [--classes 14] [--batch 32] [--threads 2]
"""
import argparse
import time

import torch
import torchvision


def fastest(fn, x, runs):
    for _ in range(2):
        fn(x)
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--classes", type=int, default=14)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = getattr(torchvision.models, a.arch)(num_classes=a.classes)
    net.load_state_dict(torch.jit.load(a.model).state_dict())
    net.eval()
    q = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
    quantized = [n for n, m in q.named_modules() if type(m).__module__.startswith("torch.ao.nn.quantized")]
    x = torch.randn(a.batch, 3, 224, 224)
    with torch.inference_mode():
        f = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(net, x[:1]).eval()))
        i8 = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(q, x[:1]).eval()))
        tf, ti = float("inf"), float("inf")
        for _ in range(2):  # interleaved: the VM's speed drifts
            tf, ti = min(tf, fastest(f, x, a.runs)), min(ti, fastest(i8, x, a.runs))
        agree = (f(x).argmax(1) == i8(x).argmax(1)).float().mean().item()
    print(f"{a.arch}: quantized modules {quantized}; float32 {a.batch / tf:.2f} images/s, dynamic int8 {a.batch / ti:.2f} images/s "
          f"(x{tf / ti:.3f}); top-1 agreement on the random batch {agree:.3f}")


if __name__ == "__main__":
    main()
