#!/usr/bin/python3
"""Peer for bench/model_bench: the same TorchScript file in PyTorch (Debian's 1.13), same
threads, batch size, input shape and top-5 post-processing, inference_mode; with --optimize,
torch.jit.optimize_for_inference (which freezes) as a user would apply it.

  torch_model_bench.py --model PATH --batch B [--images N] [--threads T] [--optimize 1]
                      [--device cpu|cuda] [--dtype float32|float16|bfloat16]

As in sluice's torch backend, the float32 input lives in host memory and is moved to the device
(and cast) every run, and the top-5 results come back to the host (which also synchronizes).
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--images", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--optimize", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    a = ap.parse_args()
    dtype = getattr(torch, a.dtype)
    if a.threads:
        torch.set_num_threads(a.threads)
    m = torch.jit.load(a.model, map_location=a.device).eval()
    if dtype != torch.float32:
        m = m.to(dtype)
    if a.optimize:
        m = torch.jit.optimize_for_inference(torch.jit.freeze(m))
    torch.manual_seed(0)
    x = torch.randn(a.batch, 3, 224, 224)
    runs = -(-max(a.images, a.batch) // a.batch)
    with torch.inference_mode():
        def run():
            scores, ids = torch.softmax(m(x.to(a.device, dtype)).float(), 1).topk(5, 1)
            return scores.cpu(), ids.int().cpu()

        run()  # warm-up
        t0 = time.perf_counter()
        for _ in range(runs):
            run()
        s = time.perf_counter() - t0
    print(f"pytorch_model model={a.model} device={a.device} dtype={a.dtype} batch={a.batch} images={runs * a.batch} optimize={a.optimize} "
          f"seconds={s:.3f} images_per_s={runs * a.batch / s:.2f}")


if __name__ == "__main__":
    main()
