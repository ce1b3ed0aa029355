#!/usr/bin/env bash
# End to end: `sluice run` vs the PyTorch pipeline users write today (bench/pytorch_pipeline.py:
# a Dataset over the same Parquet row groups, PIL decode, torchvision transforms,
# DataLoader(num_workers=cores, pin_memory), the same TorchScript in eval + inference_mode, the
# same batch size), on the JPEG dataset and the seeds' raw-tensor dataset, in one run. Also the
# ceilings measured in the same run (preprocess-only on all cores, model-only) and sluice's
# pipeline efficiency = end-to-end / min(ceilings). sluice's rows/s is over its plan (models are loaded and
# warmed before it, as the peer loads and warms before its clock). REPS=3 interleaved runs, medians.
#   bench/run_job.sh [BUILD_DIR] [IMAGES] [BATCH] [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-640}
B=${3:-64}
MODEL_NAME=${4:-resnet50}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
MODELS=$DATA/models
T=$(nproc)
[[ -f $MODELS/$MODEL_NAME.pt ]] || /usr/bin/python3 tests/infer/make_models.py --out "$MODELS" --resnet50 >/dev/null
for kind in jpeg raw; do
  dir=$DATA/job-$kind-$N
  if [[ ! -f $dir/_done ]]; then
    rm -rf "$dir"
    if [[ $kind == jpeg ]]; then
      "$SLUICE" datagen jpeg --out "$dir" --images "$N" --per-file 160 --photos "$HOME/.cache/sluice-photos" >/dev/null
    else
      "$SLUICE" datagen raw --out "$dir" --images "$N" --per-file 160 >/dev/null
    fi
    touch "$dir/_done"
  fi
done
if [[ ! -f $DATA/job-jpeg-$N-files/_done ]]; then
  rm -rf "$DATA/job-jpeg-$N-files"
  "$BUILD/bench/preprocess_bench" --export="$DATA/job-jpeg-$N" --dir="$DATA/job-jpeg-$N-files" >/dev/null
  touch "$DATA/job-jpeg-$N-files/_done"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
num() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

REPS=${REPS:-3}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "model $MODEL_NAME, batch $B, $N images, $T threads, median of $REPS runs each (interleaved)"
printf '%-5s %12s %12s %8s %12s %12s %10s\n' kind sluice pytorch ratio preprocess model efficiency
for kind in jpeg raw; do
  if [[ $kind == jpeg ]]; then
    pre=$("$BUILD/bench/preprocess_bench" --dir="$DATA/job-jpeg-$N-files" --threads="$T" | field images_per_s)
  else
    pre=$("$BUILD/bench/preprocess_bench" --raw="$N" --threads="$T" | field images_per_s)
  fi
  cat >"$work/job.yaml" <<YAML
input: {uri: "$DATA/job-$kind-$N/*.parquet", shard_rows: 160}
model: {uri: "$MODELS/$MODEL_NAME.pt", batch_size: $B}
output: {uri: "$work/out-$kind"}
YAML
  S="" P="" M=""
  for ((r = 0; r < REPS; r++)); do
    M+=" $("$BUILD/bench/model_bench" --model="$MODELS/$MODEL_NAME.pt" --batch="$B" --images="$N" --threads="$T" | field images_per_s)"
    "$SLUICE" run "$work/job.yaml" --overwrite --progress none --summary-json "$work/$kind.json" 2>"$work/$kind.log" || { cat "$work/$kind.log"; exit 1; }
    S+=" $(num rows_per_s <"$work/$kind.json")"
    P+=" $(/usr/bin/python3 bench/pytorch_pipeline.py --data "$DATA/job-$kind-$N/*.parquet" --model "$MODELS/$MODEL_NAME.pt" \
          --batch-size "$B" --workers "$T" --kind "$kind" | num images_per_s)"
  done
  s=$(median <<<"$S") p=$(median <<<"$P") m=$(median <<<"$M")
  awk -v k=$kind -v s="$s" -v p="$p" -v pre="$pre" -v m="$m" 'BEGIN {
    c = pre < m ? pre : m; printf "%-5s %12.2f %12.2f %8.3f %12.1f %12.2f %10.3f\n", k, s, p, s / p, pre, m, s / c }'
  echo "      runs: sluice$S | pytorch$P | model-only$M"
  grep -E 'bottleneck' "$work/$kind.log" | sed 's/^/      last sluice run: /'
done
