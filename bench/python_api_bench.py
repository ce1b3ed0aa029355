#!/usr/bin/python3
"""One run of the Python API for bench/run_python.sh; prints one JSON line.

  python_api_bench.py --job JOB.yaml --out DIR --mode builtin|noop|eager

builtin: Dataset.from_job(JOB).write_parquet(DIR): the C++ path driven from Python.
noop:    the same plus a no-op Python map_batches after the model (lambda batch: batch); the
         stage's own busy time per batch and per row is its overhead (GIL, batch to numpy and
         back), read from the run's stage table.
eager:   the job's preprocessing, then the model as a Python stage: torchvision's resnet (an
         eager nn.Module) with the TorchScript file's weights, batch_format="torch", the job's
         batch size, one replica; top-5 like the built-in path.
rows_per_s is over the plan, as `sluice run --summary-json` reports it (the eager stage loads
its model inside the plan)."""
import argparse
import json
import os

import sluice


class EagerResnet:
    def __init__(self, path, arch):
        import torch
        import torchvision
        self.torch = torch
        torch.set_num_threads(os.cpu_count() or 1)  # as the DataLoader peer does (Debian's torch starts with 1 here)
        self.model = getattr(torchvision.models, arch)()
        self.model.load_state_dict(torch.jit.load(path).state_dict())
        self.model.eval()

    def __call__(self, batch):
        with self.torch.inference_mode():
            scores, ids = self.torch.softmax(self.model(batch["input"]), 1).topk(5)
        return {"id": batch["id"], "top_k_ids": ids.int(), "top_k_scores": scores}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["builtin", "noop", "eager"], required=True)
    a = ap.parse_args()
    ds = sluice.Dataset.from_job(a.job)
    line = {"mode": a.mode}
    if a.mode == "noop":
        ds = ds.map_batches(lambda batch: batch)
    elif a.mode == "eager":
        model = ds._job.pop("model")
        arch = "resnet50" if "resnet50" in model["uri"] else "resnet18"
        ds = ds.preprocess(preset="imagenet").map_batches(EagerResnet, batch_size=int(model.get("batch_size", 256)), batch_format="torch",
                                                          fn_constructor_args=(model["uri"], arch))
    r = ds.write_parquet(a.out, overwrite=True)
    line["rows_per_s"] = r.rows_per_s
    line["rows"] = r.rows_written
    for st in r.to_dict()["stats"]["stages"]:
        if st["name"].startswith("map_batches"):
            line["stage_busy_s"] = st["busy_s"]
            line["stage_batches"] = st["batches_in"]
            line["us_per_batch"] = 1e6 * st["busy_s"] / max(1, st["batches_in"])
            line["us_per_row"] = 1e6 * st["busy_s"] / max(1, st["rows_in"])
    print(json.dumps(line))


if __name__ == "__main__":
    main()
