#!/usr/bin/env bash
# The Python API against `sluice run` and the PyTorch DataLoader pipeline, interleaved REPS
# times on the same data (N generated JPEGs in Parquet) and model (TorchScript, random weights,
# CPU), medians of rows/s:
#   cli      `sluice run job.yaml`
#   python   sluice.Dataset.from_job(job).write_parquet(...)            (target: within 2% of cli)
#   noop     python + a no-op Python map_batches after the model: the rows/s and the stage's
#            own busy time per batch and per row (its overhead)
#   eager    the model as a Python stage: torchvision's nn.Module (eager) with the same weights
#   pytorch  bench/pytorch_pipeline.py: the DataLoader pipeline users write (same batch size)
#   bench/run_python.sh [BUILD_DIR] [IMAGES] [MODEL] [BATCH]      (REPS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-320}
MODEL_NAME=${3:-resnet18}
B=${4:-32}
REPS=${REPS:-3}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
MODELS=$DATA/models
T=$(nproc)
[[ -f $MODELS/$MODEL_NAME.pt ]] || /usr/bin/python3 tests/infer/make_models.py --out "$MODELS" --resnet50 >/dev/null
dir=$DATA/python-jpeg-$N
if [[ ! -f $dir/_done ]]; then
  rm -rf "$dir"
  "$SLUICE" datagen jpeg --out "$dir" --images "$N" --per-file 80 --photos "$HOME/.cache/sluice-photos" >/dev/null
  touch "$dir/_done"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/job.yaml" <<YAML
input: {uri: "$dir/*.parquet", shard_rows: 80}
model: {uri: "$MODELS/$MODEL_NAME.pt", batch_size: $B}
output: {uri: "$work/out"}
YAML
num() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
py() { PYTHONPATH=$BUILD/python /usr/bin/python3 bench/python_api_bench.py --job "$work/job.yaml" --out "$work/out" --mode "$1"; }
CLI="" PY="" NOOP="" EAGER="" TORCH="" UPB="" UPR=""
for ((r = 0; r < REPS; r++)); do
  "$SLUICE" run "$work/job.yaml" --overwrite --progress none --summary-json "$work/cli.json" 2>/dev/null
  CLI+=" $(num rows_per_s <"$work/cli.json")"
  PY+=" $(py builtin | num rows_per_s)"
  line=$(py noop)
  NOOP+=" $(num rows_per_s <<<"$line")" UPB+=" $(num us_per_batch <<<"$line")" UPR+=" $(num us_per_row <<<"$line")"
  EAGER+=" $(py eager | num rows_per_s)"
  TORCH+=" $(/usr/bin/python3 bench/pytorch_pipeline.py --data "$dir/*.parquet" --model "$MODELS/$MODEL_NAME.pt" --batch-size "$B" \
            --workers "$T" --kind jpeg | num images_per_s)"
done
echo "model $MODEL_NAME, batch $B, $N JPEGs, $T cores, median of $REPS interleaved runs (rows/s)"
c=$(median <<<"$CLI") p=$(median <<<"$PY") n=$(median <<<"$NOOP") e=$(median <<<"$EAGER") t=$(median <<<"$TORCH")
awk -v c="$c" -v p="$p" -v n="$n" -v e="$e" -v t="$t" -v upb="$(median <<<"$UPB")" -v upr="$(median <<<"$UPR")" 'BEGIN {
  printf "%-34s %10.2f\n", "cli (sluice run)", c
  printf "%-34s %10.2f   python/cli %.3f\n", "python (built-in path)", p, p / c
  printf "%-34s %10.2f   noop/python %.3f; the stage: %.0f us per batch, %.2f us per row\n", "python + no-op map_batches", n, n / p, upb, upr
  printf "%-34s %10.2f   eager/python %.3f\n", "python, eager nn.Module stage", e, e / p
  printf "%-34s %10.2f   python/pytorch %.3f\n", "pytorch DataLoader pipeline", t, p / t }'
echo "runs: cli$CLI | python$PY | noop$NOOP | eager$EAGER | pytorch$TORCH | noop us/batch$UPB"
