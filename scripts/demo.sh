#!/usr/bin/env bash
# make demo: generates (once, cached in ~/.cache/sluice-demo) ~2,000 JPEGs in Parquet with
# `sluice datagen` and a resnet50 TorchScript with random weights (Debian's torchvision), links
# them under ./data and ./models, then runs examples/imagenet-resnet50.yaml on the CPU and
# writes its HTML report to ./demo-report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SLUICE=$BUILD/tools/sluice/sluice
CACHE=${SLUICE_DEMO_CACHE:-$HOME/.cache/sluice-demo}
IMAGES=${SLUICE_DEMO_IMAGES:-2000}
mkdir -p "$CACHE" data models
if [[ ! -f $CACHE/jpeg-$IMAGES/_done ]]; then
  echo "demo: generating $IMAGES JPEG images (once) ..."
  rm -rf "$CACHE/jpeg-$IMAGES"
  "$SLUICE" datagen jpeg --out "$CACHE/jpeg-$IMAGES" --images "$IMAGES" --per-file 500 --photos "$HOME/.cache/sluice-photos"
  touch "$CACHE/jpeg-$IMAGES/_done"
fi
if [[ ! -f $CACHE/resnet50.pt ]]; then
  echo "demo: exporting resnet50 (random weights) to TorchScript (once) ..."
  /usr/bin/python3 - "$CACHE/resnet50.pt" <<'PY'
import sys, torch, torchvision
m = torchvision.models.resnet50().eval()  # random weights: no download needed
torch.jit.trace(m, torch.zeros(1, 3, 224, 224)).save(sys.argv[1])
PY
fi
ln -sfn "$CACHE/jpeg-$IMAGES" data/imagenet-demo
ln -sfn "$CACHE/resnet50.pt" models/resnet50.pt
# The run ends by naming its report (an HTML page of the run: open it in a browser).
exec "$SLUICE" run examples/imagenet-resnet50.yaml --overwrite --report demo-report.html
