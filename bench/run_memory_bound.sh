#!/usr/bin/env bash
# The memory bound of `sluice run` across row-group sizes, budgets and batch sizes, JPEG and
# raw 256x256x3 input: for each run, the process RSS when the plan starts (libraries + model),
# its peak while the plan runs, the growth against resources.memory, and the executor's peak
# in flight. Prints one line per run and the largest growth over the budget (the README's
# fixed overhead). The tiny test model (32x32 crops) keeps the model's own memory out of it.
#   bench/run_memory_bound.sh [BUILD_DIR] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-5000}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
MODEL=$BUILD/tests/models/tiny.pt
[[ -f $MODEL ]] || /usr/bin/python3 tests/infer/make_models.py --out "$BUILD/tests/models" >/dev/null
for kind in jpeg raw; do
  one=$DATA/mem-$kind-$N-one   # one row group of N rows
  small=$DATA/mem-$kind-$N-10  # row groups of 10 rows
  if [[ ! -f $small/_done ]]; then
    rm -rf "$one" "$small"
    if [[ $kind == jpeg ]]; then
      "$SLUICE" datagen jpeg --out "$one" --images "$N" --per-file "$N" --photos "$HOME/.cache/sluice-photos" >/dev/null
    else
      "$SLUICE" datagen raw --out "$one" --images "$N" --per-file "$N" >/dev/null
    fi
    mkdir -p "$small"
    for f in "$one"/*.parquet; do "$SLUICE" parquet copy "$f" "$small/$(basename "$f")" --row-group-rows 10 >/dev/null; done
    touch "$one/_done" "$small/_done"
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
num() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" | head -1; }
printf "%-5s %9s %8s %6s %9s %11s %10s %10s %10s %14s\n" input rowgroup budget batch rows/s "in flight" "RSS start" "RSS peak" growth "over budget (MiB)"
worst=-1e9
for kind in jpeg raw; do
  for rg in one 10; do
    for budget in 32 256 4096; do
      for batch in 1 64 512; do
        cat > "$work/job.yaml" <<YAML
input: {uri: "$DATA/mem-$kind-$N-$rg/*.parquet", shard_rows: $N}
preprocess: {resize: 32, crop: 32}
model: {uri: "$MODEL", batch_size: $batch}
output: {uri: "$work/out", top_k: 5}
resources: {memory: ${budget}MiB}
YAML
        rm -rf "$work/out"
        "$SLUICE" run "$work/job.yaml" --progress none --summary-json "$work/s.json" 2>/dev/null
        tr -d '\n' < "$work/s.json" > "$work/s1.json"
        rps=$(num rows_per_s < "$work/s1.json")
        fl=$(num peak_in_flight_bytes < "$work/s1.json")
        st=$(num rss_at_start_bytes < "$work/s1.json")
        pk=$(num peak_rss_bytes < "$work/s1.json")
        line=$(awk -v k="$kind" -v rg="$rg" -v b="$budget" -v bs="$batch" -v r="$rps" -v f="$fl" -v s="$st" -v p="$pk" 'BEGIN {
          M = 1048576; g = (p - s) / M;
          printf "%-5s %9s %6sMiB %6s %9.0f %8.1fMiB %7.1fMiB %7.1fMiB %7.1fMiB %11.1f", k, rg, b, bs, r, f / M, s / M, p / M, g, g - b }')
        echo "$line"
        worst=$(awk -v a="$worst" -v b="${line##* }" 'BEGIN { print (b > a ? b : a) }')
      done
    done
  done
done
echo "largest RSS growth over the budget: ${worst} MiB (rows per run: $N)"
