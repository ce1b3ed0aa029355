#!/usr/bin/env bash
# Runs the executor benchmarks and their Python peer side by side and prints the ratios.
#   bench/run_all.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PY=/usr/bin/python3
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

echo "== framework overhead (sleep 1 s per batch, N=64, C=16; ideal 4 s)"
s=$("$BUILD"/bench/overhead_bench --batches=64 --concurrency=16); echo "$s"
p=$($PY bench/peers/python_pipeline.py overhead --batches 64 --concurrency 16); echo "$p"

echo "== scheduling cost (1M rows in 100k empty batches, source -> 3 no-op maps -> sink, 2 threads)"
s=$("$BUILD"/bench/scheduling_bench --batches=100000 --maps=3); echo "$s"
o=$("$BUILD"/bench/scheduling_bench --batches=100000 --maps=3 --ordered=1); echo "$o"
p=$($PY bench/peers/python_pipeline.py scheduling --batches 100000 --maps 3); echo "$p"
awk -v a="$(echo "$p" | field cpu_us_per_batch)" -v b="$(echo "$s" | field cpu_us_per_batch)" \
  -v ra="$(echo "$s" | field batches_per_s)" -v rb="$(echo "$p" | field batches_per_s)" \
  'BEGIN { printf "ratio: python threads+queues CPU per batch / sluice = %.1fx; sluice batches/s / python = %.1fx\n", a / b, ra / rb }'

echo "== scheduling cost at a paced 10k batches/s (pacing CPU measured and subtracted)"
"$BUILD"/bench/scheduling_bench --batches=50000 --maps=3 --rate=10000
"$BUILD"/bench/scheduling_bench --batches=50000 --maps=1 --rate=10000
