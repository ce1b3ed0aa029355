#!/usr/bin/env bash
# CPU inference: sluice's own choice (model.dtype auto, the default) vs float32, bfloat16 and the
# PyTorch DataLoader pipeline (float32), issue 17. The model is a classifier with real margins:
# ARCH's random convolutions with batch-norm statistics calibrated on generated training images
# and a last layer trained to tell which photograph each image was cut from (datagen's label),
# bench/peers/calibrated_classifier.py. N evaluation images (JPEG or raw), imagenet
# preprocessing, interleaved REPS times: rows/s (median), what auto chose and why, top-1
# agreement of bfloat16 and of auto with float32, and top-1 accuracy of each against the labels.
#   bench/run_cpu_dtype.sh [BUILD_DIR] [IMAGES] [ARCH] [BATCH] [KIND: jpeg|raw]      (REPS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1280}
ARCH=${3:-resnet50}
B=${4:-32}
KIND=${5:-jpeg}
REPS=${REPS:-2}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
MODELS=$DATA/models
T=$(nproc)
[[ -f $MODELS/$ARCH.pt ]] || /usr/bin/python3 tests/infer/make_models.py --out "$MODELS" --resnet50 >/dev/null
dataset() {  # dataset KIND SET IMAGES -> its directory (made once)
  local dir=$DATA/photo-$1-$2-$3
  if [[ ! -f $dir/_done ]]; then
    rm -rf "$dir"
    "$SLUICE" datagen "$1" --out "$dir" --images "$3" --per-file 80 --seed $([[ $2 == train ]] && echo 11 || echo 12) \
      --photos "$HOME/.cache/sluice-photos" >/dev/null
    touch "$dir/_done"
  fi
  echo "$dir"
}
TRAIN=$(dataset jpeg train 320)
EVAL=$(dataset "$KIND" eval "$N")
MODEL=$MODELS/${ARCH}_photo.pt
if [[ ! -f $MODEL ]]; then
  PYTHONPATH=$BUILD/python /usr/bin/python3 bench/peers/calibrated_classifier.py --model "$MODELS/$ARCH.pt" --arch "$ARCH" \
    --train "$TRAIN/*.parquet" --eval "$(dataset jpeg eval 320)/*.parquet" --out "$MODEL"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/job.yaml" <<YAML
input: {uri: "$EVAL/*.parquet", shard_rows: 80}
model: {uri: "$MODEL", batch_size: $B}
output: {uri: "$work/out", top_k: 1, include: [label]}
YAML
num() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A RUNS=()
for ((r = 0; r < REPS; r++)); do
  for dt in auto float32 bfloat16; do
    "$SLUICE" run "$work/job.yaml" --set model.dtype=$dt --set output.uri="$work/out-$dt" --overwrite --progress none \
      --summary-json "$work/$dt.json" 2>"$work/$dt.log" || { cat "$work/$dt.log"; exit 1; }
    RUNS[$dt]+=" $(num rows_per_s <"$work/$dt.json")"
  done
  RUNS[torch]+=" $(/usr/bin/python3 bench/pytorch_pipeline.py --data "$EVAL/*.parquet" --model "$MODEL" --batch-size "$B" \
                    --workers "$T" --kind "$KIND" | num images_per_s)"
done
rows() { for p in "$1"/part-*.parquet; do "$SLUICE" parquet cat "$p" --columns id,label,top_k_ids; done | sort; }
for dt in auto float32 bfloat16; do rows "$work/out-$dt" >"$work/$dt.txt"; done
agree() { paste -d' ' "$work/float32.txt" "$work/$1.txt" | awk '{ n++; if ($1 == $2) a++ } END { printf "%d of %d (%.2f%%)", a, n, 100 * a / n }'; }
correct() { sed 's/.*"label":\([0-9]*\),"top_k_ids":\[\([0-9]*\)\].*/\1 \2/' "$work/$1.txt" | awk '{ n++; if ($1 == $2) a++ } END { printf "%.1f%%", 100 * a / n }'; }
a=$(median <<<"${RUNS[auto]}") f=$(median <<<"${RUNS[float32]}") b=$(median <<<"${RUNS[bfloat16]}") t=$(median <<<"${RUNS[torch]}")
echo "$ARCH (calibrated, photo head), batch $B, $N $KIND images, $T cores, median of $REPS interleaved runs (rows/s)"
awk -v a="$a" -v f="$f" -v b="$b" -v t="$t" 'BEGIN {
  printf "sluice auto      %8.2f   vs PyTorch DataLoader (float32) %.3f, vs sluice float32 %.3f\n", a, a / t, a / f
  printf "sluice float32   %8.2f   vs PyTorch DataLoader %.3f\n", f, f / t
  printf "sluice bfloat16  %8.2f   vs PyTorch DataLoader %.3f, vs sluice float32 %.3f\n", b, b / t, b / f
  printf "PyTorch DataLoader (float32) %8.2f\n", t }'
echo "auto chose: $(sed -n 's/.*"model_dtype_why":"\([^"]*\)".*/\1/p' "$work/auto.json")"
echo "top-1 agreement with float32: bfloat16 $(agree bfloat16); auto $(agree auto)"
echo "top-1 accuracy (label = source photograph): float32 $(correct float32), bfloat16 $(correct bfloat16), auto $(correct auto)"
echo "runs: auto${RUNS[auto]} | float32${RUNS[float32]} | bfloat16${RUNS[bfloat16]} | pytorch${RUNS[torch]}"
