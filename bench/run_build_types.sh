#!/usr/bin/env bash
# Release (-O3) vs RelWithDebInfo (-O2 -g), the same benches side by side, interleaved:
# preprocessing (exact mode, one pinned core, the generator's JPEGs), Parquet reads of raw
# tensors in sluice's layout and in Ray's, whole row groups. Prints each figure and the ratio
# O3 / O2 (medians of REPS interleaved runs).
#   bench/run_build_types.sh O2_BUILD O3_BUILD
set -euo pipefail
cd "$(dirname "$0")/.."
O2=${1:-build}
O3=${2:-build-release}
REPS=${REPS:-3}
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
SET=$DATA/build-types-jpeg
if [[ ! -f $SET/_done ]]; then
  rm -rf "$SET" "$DATA/build-types-gen"
  "$O2"/tools/sluice/sluice datagen jpeg --out "$DATA/build-types-gen" --images 400 --per-file 400 >/dev/null
  "$O2"/bench/preprocess_bench --export="$DATA/build-types-gen" --dir="$SET" >/dev/null
  touch "$SET/_done"
fi
[[ -f $DATA/ray-layout-400/_done ]] || bench/run_ray_layout.sh "$O2" 400 >/dev/null
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A got
for rep in $(seq "$REPS"); do
  for b in O2 O3; do
    dir=${!b}
    got[$b.pre]+="$(taskset -c 0 "$dir"/bench/preprocess_bench --dir="$SET" --threads=1 | field images_per_s)"$'\n'
    for f in sluice ray_dictionary; do
      got[$b.$f]+="$("$dir"/bench/parquet_read_bench --file="$DATA/ray-layout-400/$f.parquet" --columns=image --repeat=3 | field rows_per_s)"$'\n'
    done
  done
done
for what in pre sluice ray_dictionary; do
  a=$(printf "%s" "${got[O2.$what]}" | median)
  b=$(printf "%s" "${got[O3.$what]}" | median)
  awk -v w="$what" -v a="$a" -v b="$b" 'BEGIN { printf "%-16s O2 %10.1f  O3 %10.1f  O3/O2 %.3f\n", w, a, b, b / a }'
done
