#!/usr/bin/env bash
# The same job through the Python API (Dataset.from_job(...).write_parquet) and through
# `sluice run`, interleaved REPS times on the same data and model: rows/s of each (over the
# plan, as the summary reports it) and the ratio Python / CLI (target: within 2%).
#   bench/run_python.sh [BUILD_DIR] [IMAGES] [MODEL]      (REPS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-320}
MODEL_NAME=${3:-resnet18}
REPS=${REPS:-3}
SLUICE=$BUILD/tools/sluice/sluice
DATA=${SLUICE_BENCH_DATA:-$HOME/.cache/sluice-bench}
MODELS=$DATA/models
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
model: {uri: "$MODELS/$MODEL_NAME.pt", batch_size: 32}
output: {uri: "$work/out"}
YAML
cli=() py=()
for ((i = 0; i < REPS; i++)); do
  "$SLUICE" run "$work/job.yaml" --overwrite --progress none --summary-json "$work/cli.json" 2>/dev/null
  cli+=("$(sed -n 's/.*"rows_per_s":\([0-9.]*\).*/\1/p' "$work/cli.json")")
  py+=("$(PYTHONPATH=$BUILD/python /usr/bin/python3 -c "
import sluice
r = sluice.Dataset.from_job('$work/job.yaml').write_parquet('$work/out', overwrite=True)
print(r.rows_per_s)")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
c=$(median "${cli[@]}") p=$(median "${py[@]}")
echo "python_vs_cli images=$N model=$MODEL_NAME reps=$REPS cli_rows_per_s=[${cli[*]}] python_rows_per_s=[${py[*]}]"
awk -v c="$c" -v p="$p" 'BEGIN { printf "median: cli %.2f rows/s, python %.2f rows/s, python/cli = %.3f\n", c, p, p / c }'
