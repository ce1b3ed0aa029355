#!/usr/bin/env bash
# Per core, where preprocessing time goes: sluice exact and fast (bench/preprocess_bench
# --breakdown) and the pipelines users write (bench/peers/preprocess_breakdown.py: PIL +
# torchvision, torchvision.io + tensor transforms, OpenCV when python3-opencv is installed), on
# the same JPEG files (`sluice datagen jpeg`, the generator's ImageNet-like mix), pinned to one
# core, interleaved REPS times.
#   bench/run_preprocess_breakdown.sh [BUILD_DIR] [IMAGES]      (REPS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-320}
REPS=${REPS:-2}
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
SET=$DATA/breakdown-jpeg-$N-files
if [[ ! -f $SET/_done ]]; then
  rm -rf "$SET" "$DATA/breakdown-jpeg-$N"
  "$BUILD/tools/sluice/sluice" datagen jpeg --out "$DATA/breakdown-jpeg-$N" --images "$N" --per-file "$N" --photos "$HOME/.cache/sluice-photos" >/dev/null
  "$BUILD/bench/preprocess_bench" --export="$DATA/breakdown-jpeg-$N" --dir="$SET" >/dev/null
  touch "$SET/_done"
fi
for ((r = 0; r < REPS; r++)); do
  echo "run $((r + 1)):"
  for mode in exact fast; do
    taskset -c 0 "$BUILD/bench/preprocess_bench" --dir="$SET" --threads=1 --mode=$mode --breakdown=1 | sed 's/^/  /'
  done
  taskset -c 0 /usr/bin/python3 bench/peers/preprocess_breakdown.py --dir "$SET" | sed 's/^/  /'
done
echo "deviation from PIL + torchvision (uint8 crops):"
/usr/bin/python3 bench/peers/preprocess_breakdown.py --dir "$SET" --deviation "$BUILD/tools/sluice/sluice" | sed 's/^/  /'
