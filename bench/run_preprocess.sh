#!/usr/bin/env bash
# Image preprocessing throughput, sluice vs PIL + torchvision on the same JPEG files, one core,
# then all cores for sluice, plus the fast mode and raw 256x256x3 tensors.
#   bench/run_preprocess.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PHOTOS=${SLUICE_PHOTOS:-$HOME/.cache/sluice-photos}
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
SET=$DATA/datagen-jpeg-files
scripts/fetch_photos.sh "$PHOTOS"
if [[ ! -d $SET ]]; then
  "$BUILD"/tools/sluice/sluice datagen jpeg --out "$DATA/datagen-jpeg" --images 500 --per-file 500 --photos "$PHOTOS"
  "$BUILD"/bench/preprocess_bench --export="$DATA/datagen-jpeg" --dir="$SET"
fi
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
s=$(taskset -c 0 "$BUILD"/bench/preprocess_bench --dir="$SET" --threads=1)
p=$(taskset -c 0 /usr/bin/python3 bench/peers/torchvision_preprocess.py --dir "$SET")
echo "$s"
echo "$p"
awk -v a="$(echo "$s" | field images_per_s)" -v b="$(echo "$p" | field images_per_s)" \
  'BEGIN { printf "ratio per core (exact mode): sluice / PIL+torchvision = %.2f\n", a / b }'
"$BUILD"/bench/preprocess_bench --dir="$SET" --threads="$(nproc)"
taskset -c 0 "$BUILD"/bench/preprocess_bench --dir="$SET" --threads=1 --mode=fast
taskset -c 0 "$BUILD"/bench/preprocess_bench --dir="$SET" --threads=1 --dtype=uint8
taskset -c 0 "$BUILD"/bench/preprocess_bench --raw=2000 --threads=1
"$BUILD"/bench/preprocess_bench --raw=2000 --threads="$(nproc)"
