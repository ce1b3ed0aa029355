#!/usr/bin/env bash
# Heterogeneous cells: one infer worker fed only by CPU-only feeders (--feeders-only), with
# the sleep backend standing in for a GPU of R images/s (a fixed time per batch, no CPU;
# model.normalize: device, so the infer worker receives the uint8 crops as they are) and real
# JPEG decode + resize + crop on the feeders (one core each). Measured in one run: each
# feeder's rate alone (the model at 0 ms), then throughput with 1..F feeders against
# min(R, F x feeder rate), the model's busy share, the feeders' time blocked on credits and the
# bytes sent per image. The stand-in hashes each input row (its outputs depend on the input),
# so its real rate is below the nominal R: the bound uses the rate it showed (rows per busy
# second of the model stage) as R.
#   bench/run_cells.sh [BUILD_DIR] [IMAGES] [R images/s] [MAX_FEEDERS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1200}
R=${3:-180}
F=${4:-2}
SLUICE=$(realpath "$BUILD/tools/sluice/sluice")
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}/cells-jpeg-$N
WORK=$(mktemp -d /tmp/sluice-cells.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if [[ ! -f $DATA/_done ]]; then
  rm -rf "$DATA"
  "$SLUICE" datagen jpeg --out "$DATA" --images "$N" --per-file 100 --photos "$HOME/.cache/sluice-photos" >/dev/null
  touch "$DATA/_done"
fi
BATCH=32
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp
# One launch: an infer worker (the model at `ms` per batch of 32) and `feeders` feeders.
launch() {
  local name=$1 ms=$2 feeders=$3
  echo "per_batch=${ms}ms" > "$WORK/sleep-$name.txt"
  cat > "$WORK/$name.yaml" <<YAML
input: {uri: "$DATA/*.parquet", shard_rows: 100}
preprocess: {preset: imagenet}
model: {uri: "$WORK/sleep-$name.txt", backend: sleep, batch_size: $BATCH, normalize: device}
output: {uri: "$WORK/out-$name", top_k: 0}
resources: {cpus: 1, memory: 512MiB}
YAML
  local ctx=(-np 1 "$SLUICE" run "$WORK/$name.yaml" --role infer --feeders-only --progress none --summary-json "$WORK/$name.json")
  for ((i = 0; i < feeders; i++)); do
    ctx+=(: -np 1 "$SLUICE" run "$WORK/$name.yaml" --role preprocess --progress none --summary-json "$WORK/$name.f$i.json")
  done
  mpirun --oversubscribe "${ctx[@]}" > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; exit 1; }
}
summary() {  # rows/s, model busy share, feeders' credit wait (s), bytes per image, model rows per busy second
  /usr/bin/python3 - "$WORK/$1.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
model = next(st for st in s["stats"]["stages"] if st["name"] == "model")
wall = s["stats"]["wall_s"]
rows = sum(f["rows"] for f in s["feeders"])
sent = sum(f["bytes"] for f in s["feeders"])
wait = sum(f["credit_wait_s"] for f in s["feeders"])
print(f'{s["rows_per_s"]:.1f} {model["busy_s"] / wall:.3f} {wait:.1f} {sent / max(rows, 1):.0f} {model["rows_in"] / model["busy_s"]:.1f}')
PY
}
launch alone 0 1
read -r FEEDER _ _ BYTES _ <<< "$(summary alone)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $N JPEGs; model stand-in R = $R images/s"
echo "one feeder alone (1 core, model at 0 ms): $FEEDER images/s; $BYTES bytes sent per image (uint8 224x224x3 crops and ids)"
MS=$(/usr/bin/python3 -c "print(round($BATCH * 1000 / $R))")
printf '%-8s %10s %10s %10s %8s %12s %14s\n' feeders images/s model_R bound ratio model_busy credit_wait_s
for ((f = 1; f <= F; f++)); do
  launch "f$f" "$MS" "$f"
  read -r RATE BUSY WAIT _ MODEL_R <<< "$(summary "f$f")"
  BOUND=$(/usr/bin/python3 -c "print(min($MODEL_R, $f * $FEEDER))")
  RATIO=$(/usr/bin/python3 -c "print(f'{$RATE / $BOUND:.3f}')")
  printf '%-8s %10s %10s %10.1f %8s %12s %14s\n' "$f" "$RATE" "$MODEL_R" "$BOUND" "$RATIO" "$BUSY" "$WAIT"
done
