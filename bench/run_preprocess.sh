#!/usr/bin/env bash
# Image preprocessing throughput, sluice vs PIL + torchvision on the same JPEG files, one core,
# then all cores for sluice, plus the fast mode and raw 256x256x3 tensors.
#   bench/run_preprocess.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PHOTOS=${SLUICE_PHOTOS:-$HOME/.cache/sluice-photos}
SET=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}/jpeg-set
scripts/fetch_photos.sh "$PHOTOS"
[[ -d $SET ]] || /usr/bin/python3 bench/peers/make_jpeg_set.py --photos "$PHOTOS" --out "$SET" --images 300
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
