#!/usr/bin/env bash
# Model-only throughput, sluice's torch backend vs PyTorch in Python on the same TorchScript
# files, threads and batch sizes, with and without freeze/optimize.
#   bench/run_model.sh [build-dir] [images per config]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
IMAGES=${2:-128}
MODELS=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}/models
[[ -f $MODELS/resnet50.pt ]] || /usr/bin/python3 tests/infer/make_models.py --out "$MODELS" --resnet50
T=$(nproc)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
for model in resnet18 resnet50; do
  for batch in 32 64 256; do
    for opt in 1 0; do
      s=$("$BUILD"/bench/model_bench --model="$MODELS/$model.pt" --batch=$batch --images="$IMAGES" --threads="$T" --optimize=$opt)
      p=$(/usr/bin/python3 bench/peers/torch_model_bench.py --model "$MODELS/$model.pt" --batch $batch --images "$IMAGES" --threads "$T" --optimize $opt)
      echo "$s"
      echo "$p"
      awk -v a="$(echo "$s" | field images_per_s)" -v b="$(echo "$p" | field images_per_s)" -v m=$model -v bs=$batch -v o=$opt \
        'BEGIN { printf "ratio %s batch=%s optimize=%s: sluice/pytorch = %.3f\n", m, bs, o, a / b }'
    done
  done
done
