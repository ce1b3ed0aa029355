#!/usr/bin/env bash
# CPU inference in bfloat16 vs float32 (issue 17): the same job (N generated JPEGs, imagenet
# preprocessing, a resnet whose last layer is a nearest-centroid classifier over clusters of
# its own features, bench/peers/cluster_classifier.py, so its predictions are not degenerate)
# run by `sluice run` with model.dtype float32 and bfloat16 (channels_last on the CPU), and by
# the PyTorch DataLoader pipeline (float32), interleaved REPS times: rows/s (median), top-1
# agreement of bfloat16 with float32, and how many classes the float32 run predicts.
#   bench/run_cpu_dtype.sh [BUILD_DIR] [IMAGES] [ARCH] [BATCH]      (REPS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-320}
ARCH=${3:-resnet50}
B=${4:-32}
REPS=${REPS:-2}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
MODELS=$DATA/models
T=$(nproc)
[[ -f $MODELS/$ARCH.pt ]] || /usr/bin/python3 tests/infer/make_models.py --out "$MODELS" --resnet50 >/dev/null
for set in train eval; do
  dir=$DATA/dtype-$set-$N
  if [[ ! -f $dir/_done ]]; then
    rm -rf "$dir"
    "$SLUICE" datagen jpeg --out "$dir" --images "$N" --per-file 80 --seed $([[ $set == train ]] && echo 11 || echo 12) \
      --photos "$HOME/.cache/sluice-photos" >/dev/null
    touch "$dir/_done"
  fi
done
MODEL=$MODELS/${ARCH}_clusters.pt
[[ -f $MODEL ]] || PYTHONPATH=$BUILD/python /usr/bin/python3 bench/peers/cluster_classifier.py --model "$MODELS/$ARCH.pt" --arch "$ARCH" \
  --train "$DATA/dtype-train-$N/*.parquet" --out "$MODEL"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/job.yaml" <<YAML
input: {uri: "$DATA/dtype-eval-$N/*.parquet", shard_rows: 80}
model: {uri: "$MODEL", batch_size: $B}
output: {uri: "$work/out", top_k: 1}
YAML
num() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
top1() { for p in "$1"/part-*.parquet; do "$SLUICE" parquet cat "$p" --columns id,top_k_ids; done | sort; }
F32="" BF16="" TORCH=""
for ((r = 0; r < REPS; r++)); do
  for dt in float32 bfloat16; do
    "$SLUICE" run "$work/job.yaml" --set model.dtype=$dt --set output.uri="$work/out-$dt" --overwrite --progress none \
      --summary-json "$work/$dt.json" 2>"$work/$dt.log" || { cat "$work/$dt.log"; exit 1; }
    v=$(num rows_per_s <"$work/$dt.json")
    if [[ $dt == float32 ]]; then F32+=" $v"; else BF16+=" $v"; fi
  done
  TORCH+=" $(/usr/bin/python3 bench/pytorch_pipeline.py --data "$DATA/dtype-eval-$N/*.parquet" --model "$MODEL" --batch-size "$B" \
            --workers "$T" --kind jpeg | num images_per_s)"
done
top1 "$work/out-float32" >"$work/f32.txt"
top1 "$work/out-bfloat16" >"$work/bf16.txt"
agree=$(paste -d' ' "$work/f32.txt" "$work/bf16.txt" | awk '{ n++; if ($1 == $2) a++ } END { printf "%d of %d (%.2f%%)", a, n, 100 * a / n }')
classes=$(sed 's/.*"top_k_ids":\[\([0-9]*\)\].*/\1/' "$work/f32.txt" | sort | uniq -c | sort -rn | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1 }')
f=$(median <<<"$F32") b=$(median <<<"$BF16") t=$(median <<<"$TORCH")
echo "$ARCH + nearest-centroid head, batch $B, $N JPEGs, $T cores, median of $REPS interleaved runs (rows/s)"
awk -v f="$f" -v b="$b" -v t="$t" 'BEGIN {
  printf "sluice float32   %8.2f   vs PyTorch DataLoader (float32) %.3f\n", f, f / t
  printf "sluice bfloat16  %8.2f   vs sluice float32 %.3f, vs PyTorch DataLoader %.3f\n", b, b / f, b / t
  printf "PyTorch DataLoader (float32) %8.2f\n", t }'
echo "top-1 agreement bfloat16 vs float32: $agree; float32 predictions per class (class:rows): $classes"
echo "runs: float32$F32 | bfloat16$BF16 | pytorch$TORCH"
