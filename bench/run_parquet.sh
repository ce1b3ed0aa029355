#!/usr/bin/env bash
# Parquet read throughput, sluice vs DuckDB on the same files, columns and thread counts.
#   bench/run_parquet.sh [build-dir]
# Data (about 2 GB) is generated once into $SLUICE_BENCH_DATA (default ~/.cache/sluice-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
mkdir -p "$DATA"
if [[ ! -f $DATA/images.parquet || ! -f $DATA/raw.parquet ]]; then
  echo "generating benchmark data into $DATA"
  "$BUILD"/bench/parquet_read_bench --generate="$DATA"
fi
ls -l "$DATA"/images.parquet "$DATA"/raw.parquet | awk '{print "# " $5 " bytes " $9}'
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
for spec in "images.parquet:" "images.parquet:label" "raw.parquet:" "raw.parquet:id"; do
  file=$DATA/${spec%%:*}
  cols=${spec#*:}
  for t in 1 $(nproc); do
    # warm the page cache so both read from memory
    cat "$file" > /dev/null
    s=$("$BUILD"/bench/parquet_read_bench --file="$file" --columns="$cols" --threads="$t" --repeat=3)
    d=$(node bench/peers/duckdb_read.mjs --file "$file" --columns "$cols" --threads "$t" --repeat 3)
    echo "$s"
    echo "$d"
    awk -v a="$(echo "$s" | field rows_per_s)" -v b="$(echo "$d" | field rows_per_s)" -v f="${spec%%:*}" -v c="${cols:-all}" -v t="$t" \
      'BEGIN { printf "ratio %s columns=%s threads=%s: sluice/duckdb = %.2f\n", f, c, t, a / b }'
  done
done
