#!/usr/bin/env bash
# pip install --no-build-isolation . into a fresh venv (Debian's Python, system site packages
# for numpy/torch), taking the extension from the configured build tree BUILD (the README's
# fresh-clone form builds it itself in build/pip), then `import sluice` from outside the source
# tree and run a small pipeline.   usage: install_check.sh SOURCE_DIR BUILD_DIR SLUICE_BIN MODELS_DIR
set -euo pipefail
SRC=$1 BUILD=$2 BIN=$3 MODELS=$4
WORK=$(mktemp -d "$BUILD/python_install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$WORK/venv"
# pip builds in the source tree: a copy of what it reads (the extension comes from BUILD) keeps
# the checkout clean of egg-info.
mkdir "$WORK/src"
cp -r "$SRC/setup.py" "$SRC/pyproject.toml" "$SRC/python" "$WORK/src/"
SLUICE_CMAKE_BUILD_DIR=$BUILD "$WORK/venv/bin/pip" install --no-build-isolation -q "$WORK/src"
"$BIN" datagen raw --out "$WORK/data" --images 20 --per-file 10 >/dev/null
cd "$WORK"
"$WORK/venv/bin/python" - "$WORK" "$MODELS/tiny.pt" <<'PY'
import sys, sluice
work, model = sys.argv[1], sys.argv[2]
assert sluice.__file__.startswith(work + "/venv/"), sluice.__file__
ds = sluice.read_parquet(work + "/data/*.parquet").preprocess(resize=32, crop=32).predict(model, batch_size=4)
r = ds.map_batches(lambda b: {"id": b["id"], "best": b["top_k_ids"][:, 0].copy()}).write_parquet(work + "/out")
assert r.rows_written == 20, r
rows = sum(len(b["id"]) for b in ds.iter_batches(batch_size=8))
assert rows == 20, rows
print("installed and ran:", r, "and streamed", rows, "rows")
PY
