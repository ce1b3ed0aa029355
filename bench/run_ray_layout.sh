#!/usr/bin/env bash
# Reading Ray Data's tensor layout vs sluice's own: the same 256x256x3 uint8 images stored
#   - as sluice writes tensors (FIXED_LEN_BYTE_ARRAY rows),
#   - as Ray writes them through pyarrow (LIST of INT32 annotated uint8, dictionary-encoded,
#     ARROW:schema ray.data.arrow_tensor_v2): tests/parquet/ray/make_ray_files.mjs,
#   - the same list layout PLAIN-encoded (sluice's --tensor-layout ray writer).
# Both sides produce tensor<uint8>[256,256,3] columns; one thread, whole row groups and the
# job's 32-row slices. Prints rows/s and the ratio Ray layout / sluice layout.
#   bench/run_ray_layout.sh [BUILD_DIR] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-400}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}/ray-layout-$N
if [[ ! -f $DATA/_done ]]; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  node tests/parquet/ray/make_ray_files.mjs "$DATA/gen" --rows "$N" --shape 256,256,3 --row-groups 4 >/dev/null
  cp "$DATA/gen/ray_v2_pickled.parquet" "$DATA/ray_dictionary.parquet"
  "$SLUICE" parquet copy "$DATA/ray_dictionary.parquet" "$DATA/sluice.parquet" --row-group-rows $((N / 4)) --compression snappy
  "$SLUICE" parquet copy "$DATA/sluice.parquet" "$DATA/ray_plain.parquet" --tensor-layout ray --compression snappy
  rm -rf "$DATA/gen"
  touch "$DATA/_done"
fi
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
for stream in 0 32; do
  declare -A rate=()
  for f in sluice ray_dictionary ray_plain; do
    cat "$DATA/$f.parquet" > /dev/null
    line=$("$BUILD"/bench/parquet_read_bench --file="$DATA/$f.parquet" --columns=image --threads=1 --repeat=3 --stream=$stream)
    echo "$line"
    rate[$f]=$(echo "$line" | field rows_per_s)
  done
  for f in ray_dictionary ray_plain; do
    awk -v a="${rate[$f]}" -v b="${rate[sluice]}" -v f="$f" -v s="$stream" \
      'BEGIN { printf "ratio %s / sluice layout (stream=%s): %.2f\n", f, s, a / b }'
  done
done
