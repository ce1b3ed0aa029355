#!/usr/bin/python3
"""Where bfloat16 departs from float32 inside a torchvision resnet (issue 17): runs one batch of
generated images (sluice's imagenet preprocessing) through MODEL in float32 and in bfloat16 +
channels_last (eager, as oneDNN runs it) and prints the relative error |bf16 - f32| / |f32| of
the activations after the stem, each of layer1..layer4 and the logits, the median top-1 margin
(first minus second logit) and the median of each row's largest logit change.

  bf16_layer_error.py --model resnet50_photo.pt --arch resnet50 --data 'DIR/*.parquet' [--classes 14]
"""
import argparse

import numpy as np
import torch
import torchvision

import sluice


def stages(n, x):
    out = []
    x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
    out.append(x)
    for layer in [n.layer1, n.layer2, n.layer3, n.layer4]:
        x = layer(x)
        out.append(x)
    out.append(n.fc(torch.flatten(n.avgpool(x), 1)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--data", required=True)
    ap.add_argument("--classes", type=int, default=14)
    a = ap.parse_args()
    torch.set_num_threads(max(2, torch.get_num_threads()))
    net = getattr(torchvision.models, a.arch)(num_classes=a.classes)
    net.load_state_dict(torch.jit.load(a.model).state_dict())
    net.eval()
    batch = next(iter(sluice.read_parquet(a.data).preprocess(preset="imagenet").iter_batches(batch_size=32, batch_format="numpy")))
    x = torch.from_numpy(np.array(batch["input"]))
    with torch.inference_mode():
        f32 = stages(net, x)
        bf16 = stages(net.to(torch.bfloat16).to(memory_format=torch.channels_last),
                      x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last))
    errors = [((q.float() - p).norm() / p.norm()).item() for p, q in zip(f32, bf16)]
    top2 = f32[-1].topk(2, 1).values
    change = (f32[-1] - bf16[-1].float()).abs().max(1).values
    print(f"{a.arch}: relative error after stem, layer1..layer4, logits: {' '.join(f'{e:.4f}' for e in errors)}; "
          f"median top-1 margin {(top2[:, 0] - top2[:, 1]).median().item():.3f}, median largest logit change {change.median().item():.3f}")


if __name__ == "__main__":
    main()
