#!/usr/bin/env bash
# S3 read throughput vs the local file of the same bytes: starts s3rver (npm) on 127.0.0.1,
# uploads a Parquet file of the image dataset, then reads it sequentially and by column chunks
# with read-ahead off (1 request in flight) and on (8).
#   bench/run_s3.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}/s3
mkdir -p "$DATA"
if [[ ! -f $DATA/jpeg/part-00000.parquet ]]; then
  "$BUILD/tools/sluice/sluice" datagen jpeg --out "$DATA/jpeg" --images 2000 --per-file 2000 \
    --photos "$HOME/.cache/sluice-photos" >/dev/null
fi
work=$(mktemp -d)
coproc S3RVER { exec node tests/io/s3/start_s3rver.mjs --dir "$work" --bucket bench; }
read -r line <&"${S3RVER[0]}"
port=$(sed 's/[^0-9]//g' <<<"$line")
trap 'kill $S3RVER_PID 2>/dev/null; rm -rf "$work"' EXIT
echo "s3rver on 127.0.0.1:$port; file $(du -h "$DATA/jpeg/part-00000.parquet" | cut -f1)"
"$BUILD/bench/s3_read_bench" --file="$DATA/jpeg/part-00000.parquet" --endpoint="http://127.0.0.1:$port" --bucket=bench \
  --column=image --repeat=3
# The same reads with 20 ms before every response's first byte (a remote store's latency), through
# tests/io/s3/fault_proxy.mjs.
node tests/io/s3/fault_proxy.mjs --target "http://127.0.0.1:$port" --latency-ms 20 --ignore-stdin >"$work/proxy.port" &
proxy_pid=$!
trap 'kill $S3RVER_PID $proxy_pid 2>/dev/null; rm -rf "$work"' EXIT
until [[ -s $work/proxy.port ]]; do sleep 0.1; done
proxy=$(sed 's/[^0-9]//g' "$work/proxy.port")
echo "with 20 ms latency (fault proxy on 127.0.0.1:$proxy):"
"$BUILD/bench/s3_read_bench" --file="$DATA/jpeg/part-00000.parquet" --endpoint="http://127.0.0.1:$port" --bucket=bench \
  --read-endpoint="http://127.0.0.1:$proxy" --column=image --repeat=3
