#!/usr/bin/env bash
# The one script to run on a GPU machine (the device tool's H100: 16 cores, CUDA 13 at
# /usr/local/cuda, a PyTorch wheel with CUDA under `python3`, no package registry, a bare machine
# every time). In one call it:
#   1. builds sluice there with CUDA and the libtorch backend (Torch_DIR from the wheel),
#      unpacking carried Debian packages first if the image lacks sluice's build dependencies;
#   2. runs the CUDA tests: host-side parts, then the normalize kernel against the CPU reference
#      on the device (bit for bit), also under compute-sanitizer memcheck when it is there;
#      the carried prebuilt test binaries stand in when nothing could be built;
#   3. runs the benchmarks that exist: GPU normalize kernel + H2D copies, CPU preprocess ceiling
#      (raw tensors, all cores), model-only sluice vs PyTorch on the GPU, and end to end
#      `sluice run` vs the PyTorch pipeline (normalization on the GPU, and on the host for comparison);
#   4. samples nvidia-smi (GPU and memory utilization, memory used, power) during every step
#      and prints a table last.
#
# Before the call, on the dev machine (no GPU needed):
#   scripts/gpu_prepare.sh --debs          # -> .gpu-carry/{bin,debs,photos}, ignored by git
# The call (device tool):
#   run(command="scripts/gpu_check.sh", carry=[".gpu-carry"], timeout_s=600)
# Output: the table ends the output; the full log, the table, the benchmark lines and the
# nvidia-smi samples are written to $OUT (the device tool brings them back) or
# /tmp/sluice-gpu-check.
#
# Knobs (environment):
#   GPU_CHECK_BUDGET_S=540      steps that would start after this many seconds are skipped, so
#                               the call ends inside the tool's 600 s with the table printed
#   GPU_CHECK_JOBS=$(nproc)     compile jobs
#   GPU_CHECK_MODELS=resnet50   GPU_CHECK_BATCHES="256"   GPU_CHECK_DTYPES="float32 float16"
#   GPU_CHECK_E2E_IMAGES=8192   GPU_CHECK_SANITIZER=1     GPU_CHECK_SKIP="step names ..."
#   GPU_CHECK_BUILD=build-gpu   PYTHON=python3 (the one with the CUDA PyTorch wheel)
set -uo pipefail  # not -e: a failed step is recorded in the table and the next one runs

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
OUT_DIR=${OUT:-/tmp/sluice-gpu-check}
mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/gpu_check.log
RESULTS=$OUT_DIR/results.txt    # the benchmark programs' own key=value lines
SMI_CSV=$OUT_DIR/nvidia_smi.csv # step,timestamp,gpu_util,mem_util,mem_used_mib,power_w
SUMMARY=$OUT_DIR/summary.txt
BUDGET=${GPU_CHECK_BUDGET_S:-540}
JOBS=${GPU_CHECK_JOBS:-$(nproc)}
MODELS_LIST=${GPU_CHECK_MODELS:-resnet50}
BATCHES=${GPU_CHECK_BATCHES:-256}
DTYPES=${GPU_CHECK_DTYPES:-float32 float16}
E2E_IMAGES=${GPU_CHECK_E2E_IMAGES:-8192}
SANITIZER=${GPU_CHECK_SANITIZER:-1}
SKIP=" ${GPU_CHECK_SKIP:-} "
BUILD=${GPU_CHECK_BUILD:-$ROOT/build-gpu}
CARRY=$ROOT/.gpu-carry
DEPS=/tmp/sluice-deps
WORK=/tmp/sluice-gpu-work
PY=${PYTHON:-python3}
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
START=$SECONDS

# Filled by the steps, printed by print_table.
T_NAME=() T_STATUS=() T_SECS=() T_UTIL=() T_MEM=() T_NOTE=()
BIN=""          # directory holding cuda_tests, cuda_gpu_tests, cuda_normalize_bench
HAVE_TORCH=0    # model_bench was built against the wheel's libtorch
HAVE_CLI=0      # the sluice CLI was built

say() { printf '\n=== [%4ds] %s\n' $((SECONDS - START)) "$*"; }
record() { T_NAME+=("$1"); T_STATUS+=("$2"); T_SECS+=("$3"); T_UTIL+=("$4"); T_MEM+=("$5"); T_NOTE+=("$6"); }
skip() { record "$1" "skip" "-" "-" "-" "$2"; echo "skipped: $2"; }

# --- nvidia-smi sampling ---------------------------------------------------------------------
SMI_PID=""
SMI_TMP=$WORK/smi.tmp
smi_start() {
  : >"$SMI_TMP"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu,utilization.memory,memory.used,power.draw \
      --format=csv,noheader,nounits -lms 200 >"$SMI_TMP" 2>/dev/null &
    SMI_PID=$!
  fi
}
# Stops the sampler this script started (by its PID), appends its samples to SMI_CSV, and sets
# SMI_UTIL ("avg/max" GPU utilization %) and SMI_MEM (max memory used, MiB).
smi_stop() {
  local step=$1
  if [[ -n $SMI_PID ]]; then
    kill "$SMI_PID" 2>/dev/null
    wait "$SMI_PID" 2>/dev/null
    SMI_PID=""
  fi
  sed "s/^/$step, /" "$SMI_TMP" >>"$SMI_CSV"
  read -r SMI_UTIL SMI_MEM < <(awk -F', *' '$2 ~ /^[0-9.]+$/ { n++; s += $2; if ($2 > m) m = $2; if ($4 > mem) mem = $4 }
    END { if (n) printf "%.0f/%.0f %.0f\n", s / n, m, mem; else print "- -" }' "$SMI_TMP")
}

# Runs one step: `step NAME TIMEOUT_S NOTE_FILE CMD...` with sampling, a time limit and the
# budget check. The command's output goes to the log; if it writes a line to NOTE_FILE that
# becomes the table's note. Returns the command's status.
step() {
  local name=$1 limit=$2 note_file=$3
  shift 3
  if [[ $SKIP == *" $name "* ]]; then skip "$name" "GPU_CHECK_SKIP"; return 1; fi
  local used=$((SECONDS - START))
  if ((used + 10 > BUDGET)); then skip "$name" "budget: ${used}s of ${BUDGET}s used"; return 1; fi
  ((limit > BUDGET - used)) && limit=$((BUDGET - used))
  say "$name (limit ${limit}s): $*"
  : >"$note_file"
  local t0=$SECONDS rc
  smi_start
  # The step functions are exported (below); timeout signals the whole process group it leads.
  timeout --kill-after=10 "$limit" bash -c '"$@"' step "$@"
  rc=$?
  smi_stop "$name"
  local note
  note=$(tail -n 1 "$note_file" 2>/dev/null)
  ((rc == 124 || rc == 137)) && note="timed out after ${limit}s; $note"
  record "$name" "$([[ $rc == 0 ]] && echo ok || echo "FAIL($rc)")" "$((SECONDS - t0))" "$SMI_UTIL" "$SMI_MEM" "$note"
  return "$rc"
}

print_table() {
  {
    echo
    echo "== sluice gpu_check: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
    printf '%-22s %-9s %6s %9s %9s  %s\n' step status secs 'gpu%avg/max' 'memMiB' note
    local i
    for i in "${!T_NAME[@]}"; do
      printf '%-22s %-9s %6s %9s %9s  %s\n' "${T_NAME[$i]}" "${T_STATUS[$i]}" "${T_SECS[$i]}" "${T_UTIL[$i]}" "${T_MEM[$i]}" "${T_NOTE[$i]}"
    done
    echo "(full log, benchmark lines and nvidia-smi samples in $OUT_DIR)"
  } | tee "$SUMMARY"
}

# --- 0. environment ----------------------------------------------------------------------------
environment() {
  say "environment"
  nvidia-smi -L 2>&1 | head -4
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | head -3
  echo "nvcc: $("$NVCC" --version 2>&1 | tail -1)"
  echo "c++: $(c++ --version 2>&1 | head -1)"
  echo "cmake: $(cmake --version 2>&1 | head -1); ninja: $(ninja --version 2>&1)"
  echo "python: $(command -v "$PY") $("$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 | tail -1)"
  echo "pkg-config: $(command -v pkg-config || echo missing); carried: $(ls "$CARRY" 2>/dev/null | tr '\n' ' ')"
}

# --- 1. dependencies -----------------------------------------------------------------------------
DEPS_CMAKE=()
# Unpacks the carried Debian packages (scripts/gpu_prepare.sh --debs) into $DEPS, never into /,
# and points pkg-config, CMake and the linker there.
use_carried_debs() {
  [[ -d $CARRY/debs ]] && compgen -G "$CARRY/debs/*.deb" >/dev/null || { echo "no carried packages in $CARRY/debs"; return 1; }
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  local f x
  for f in "$CARRY"/debs/*.deb; do
    if command -v dpkg-deb >/dev/null 2>&1; then
      dpkg-deb -x "$f" "$DEPS" || return 1
    else
      x=$(mktemp -d) && (cd "$x" && ar x "$f" && tar -xf data.tar.* -C "$DEPS") || return 1
      rm -rf "$x"
    fi
  done
  local lib=$DEPS/usr/lib/x86_64-linux-gnu
  # A runtime library the image already has (same soname, so the same ABI) is used from the
  # image: ours, found first through the rpath, would also be loaded for the image's libraries
  # and could need dependencies the image lacks (Debian's libcurl needs libldap-2.5, say).
  local soname_link system_copy
  if command -v ldconfig >/dev/null 2>&1; then
    for soname_link in "$lib"/*.so.[0-9]*; do
      [[ -e $soname_link ]] || continue  # removed with an earlier name of the same library
      system_copy=$(ldconfig -p | awk -v n="$(basename "$soname_link")" '$1 == n && /x86-64/ { print $NF; exit }')
      [[ -n $system_copy ]] || continue
      rm -f "$(readlink -f "$soname_link")" "$soname_link"
      ln -sfn "$system_copy" "$lib/$(basename "${soname_link%%.so.*}").so"
    done
  fi
  # Debian's .pc files say prefix=/usr; make every absolute /usr path point into $DEPS.
  sed -i "s#=/usr#=$DEPS/usr#g" "$lib"/pkgconfig/*.pc "$DEPS"/usr/share/pkgconfig/*.pc 2>/dev/null
  export PKG_CONFIG_PATH="$lib/pkgconfig:$DEPS/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  if ! command -v pkg-config >/dev/null 2>&1; then
    mkdir -p "$DEPS/bin"
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$DEPS/usr/bin/pkgconf" >"$DEPS/bin/pkg-config"
    chmod +x "$DEPS/bin/pkg-config"
    export PATH="$DEPS/bin:$PATH"
  fi
  # Named explicitly: CMake would otherwise pick the carried $DEPS/usr/bin/pkg-config (first in
  # its prefix path), which cannot find its libpkgconf without the wrapper's library path.
  local pc
  pc=$(command -v pkg-config)
  # --as-needed: executables record only the libraries they use (the tests and benchmarks do not
  # use libcurl, whose own dependencies are not carried; the CLI does, see e2e);
  # --allow-shlib-undefined: link even when a carried library's dependencies are missing.
  DEPS_CMAKE=(-DCMAKE_PREFIX_PATH="$DEPS/usr" -DOPENSSL_ROOT_DIR="$DEPS/usr" -DPKG_CONFIG_EXECUTABLE="$pc"
    "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--as-needed -Wl,--allow-shlib-undefined -Wl,-rpath,$lib -Wl,-rpath-link,$lib")
  echo "unpacked $(ls "$CARRY"/debs/*.deb | wc -l) packages into $DEPS"
}

# --- 2. build ------------------------------------------------------------------------------------
configure() {  # configure WITH_TORCH(ON|OFF)
  local torch=$1 torch_args=()
  if [[ $torch == ON ]]; then
    local prefix
    prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) || { echo "python3 has no torch"; return 1; }
    torch_args=(-DTorch_DIR="$prefix/Torch")
  fi
  rm -rf "$BUILD"
  local gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  # RelWithDebInfo as the Makefile's benchmark builds; sm_90 only (H100/H200) to compile once;
  # warnings are not errors with this machine's newer compiler.
  CUDACXX=$NVCC cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES=90 -DCUDAToolkit_ROOT="$(dirname "$(dirname "$NVCC")")" \
    -DSLUICE_WITH_TORCH="$torch" "${torch_args[@]}" -DSLUICE_WERROR=OFF \
    -DSLUICE_BUILD_TESTS=ON -DSLUICE_BUILD_BENCH=ON -DSLUICE_BUILD_CLI=ON "${DEPS_CMAKE[@]}" >"$WORK/configure.log" 2>&1
  local rc=$?
  ((rc != 0)) && tail -n 25 "$WORK/configure.log"
  return "$rc"
}

# Tries, in order: with torch on the image's own dependencies; with torch on the carried
# packages; without torch. Writes what worked as the step's note.
configure_any() {
  local note=$1
  if configure ON; then echo "torch, image deps" >"$note"; return 0; fi
  if use_carried_debs && configure ON; then echo "torch, carried deps" >"$note"; return 0; fi
  if configure OFF; then echo "NO torch ($( [[ -n ${DEPS_CMAKE[*]} ]] && echo carried || echo image) deps)" >"$note"; return 0; fi
  echo "no build: see configure output above" >"$note"
  return 1
}

build() {
  local note=$1 targets=(cuda_tests cuda_gpu_tests cuda_normalize_bench preprocess_bench)
  grep -q "SLUICE_WITH_TORCH:BOOL=ON" "$BUILD/CMakeCache.txt" && targets+=(model_bench)
  # The CLI (datagen, run) only when it builds: `sluice run` is being written right now.
  cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" || return 1
  cmake --build "$BUILD" -j "$JOBS" --target sluice_cli >"$WORK/cli_build.log" 2>&1 || { tail -n 15 "$WORK/cli_build.log"; echo "CLI did not build"; }
  echo "built: ${targets[*]}$([[ -x $BUILD/tools/sluice/sluice ]] && echo ' sluice_cli')" >"$note"
}

# --- 3. tests ------------------------------------------------------------------------------------
# Runs a GoogleTest binary; on a GPU machine a skipped test is a failure (the gpu part must run).
gtest() {
  local bin=$1 note=$2 out
  out=$WORK/$(basename "$bin").out
  # The carried cuda_tests needs libturbojpeg, libpng and libwebp (the CPU Preprocessor parity
  # test); the image may lack them, the carried packages have them.
  if ldd "$bin" 2>/dev/null | grep -q "not found"; then
    [[ -d $DEPS/usr/lib/x86_64-linux-gnu ]] || use_carried_debs >/dev/null
    export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  "$bin" --gtest_color=no >"$out" 2>&1
  local rc=$?
  grep -E '^\[  (PASSED|FAILED|SKIPPED) |^\[  FAILED  \]|Failure|error' "$out" | head -n 40
  local passed skipped
  passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
  skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$out")
  echo "passed ${passed:-0}, skipped ${skipped:-0} ($( ((rc == 0)) && echo ok || echo FAILED))" >"$note"
  ((rc == 0)) || return "$rc"
  if [[ $(basename "$bin") == cuda_gpu_tests && ${skipped:-0} != 0 ]]; then
    echo "GPU tests were skipped on a machine that should have a GPU" >>"$note"
    return 3
  fi
}

sanitize() {
  local note=$1 cs
  cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
  [[ -n $cs ]] || { echo "compute-sanitizer not found" >"$note"; return 1; }
  "$cs" --tool memcheck --error-exitcode 9 "$BIN/cuda_gpu_tests" --gtest_color=no \
    --gtest_filter='NormalizeGpuTest.Nchw*:NormalizeGpuTest.Nhwc*:NormalizeGpuTest.PinnedPool*' >"$WORK/memcheck.out" 2>&1
  local rc=$?
  grep -E 'ERROR SUMMARY|PASSED|FAILED' "$WORK/memcheck.out" | tail -n 5
  echo "memcheck: $(grep -o 'ERROR SUMMARY: [0-9]* error[s]*' "$WORK/memcheck.out" | tail -1)" >"$note"
  return "$rc"
}

# --- 4. benchmarks -------------------------------------------------------------------------------
normalize_bench() {
  local note=$1 out
  out=$("$BIN/cuda_normalize_bench" --batch=1000 --repeat=50) || { echo "$out"; return 1; }
  echo "$out" | tee -a "$RESULTS"
  # The headline: NCHW bf16 and float32, batch 1000.
  echo "$out" | awk '/layout=nchw dtype=(float32|bfloat16)/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s %s GB/s (%s img/s, ref=%s) ", v["dtype"], v["gb_per_s"], v["images_per_s"], v["matches_reference"] }
    /h2d_pinned/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "h2d %s %s GB/s ", v["what"], v["gb_per_s"] }' >"$note"
  ! echo "$out" | grep -q 'matches_reference=0'
}

preprocess_ceiling() {
  local note=$1 out
  out=$("$BUILD/bench/preprocess_bench" --raw=4000 --threads="$(nproc)") || { echo "$out"; return 1; }
  echo "$out" | tee -a "$RESULTS"
  echo "$out" | sed -n 's/.* images_per_s=\([^ ]*\).*/raw 256x256 -> 224 float32, all cores: \1 img\/s/p' | tail -1 >"$note"
}

make_models() {
  local note=$1
  "$PY" tests/infer/make_models.py --out "$WORK/models" --resnet50 || return 1
  echo "$(ls "$WORK/models"/*.pt | wc -l) TorchScript files (torch $("$PY" -c 'import torch; print(torch.__version__)'))" >"$note"
}

# sluice's model_bench vs the same TorchScript in PyTorch on the GPU, same batch/dtype/optimize.
model_bench() {
  local note=$1 model=$2 batch=$3 dtype=$4 s p
  local images=$((batch * 8))
  s=$("$BUILD/bench/model_bench" --model="$WORK/models/$model.pt" --device=cuda --dtype="$dtype" --batch="$batch" \
        --images="$images" --threads="$(nproc)" --optimize=1) || { echo "$s"; echo "sluice model_bench failed" >"$note"; return 1; }
  p=$("$PY" bench/peers/torch_model_bench.py --model "$WORK/models/$model.pt" --device cuda --dtype "$dtype" --batch "$batch" \
        --images "$images" --threads "$(nproc)" --optimize 1) || { echo "$p"; echo "PyTorch peer failed" >"$note"; return 1; }
  printf '%s\n%s\n' "$s" "$p" | tee -a "$RESULTS"
  local a b
  a=$(echo "$s" | sed -n 's/.* images_per_s=\([^ ]*\).*/\1/p')
  b=$(echo "$p" | sed -n 's/.* images_per_s=\([^ ]*\).*/\1/p')
  awk -v a="$a" -v b="$b" 'BEGIN { printf "sluice %.0f vs pytorch %.0f img/s = %.3f\n", a, b, a / b }' | tee -a "$RESULTS" >"$note"
}

# End to end: what bench/run_job.sh does on the CPU machine, with the GPU's PyTorch ($PY, the
# wheel) and the carried photos. sluice runs the job twice: uint8 crops normalized on the GPU
# (model.normalize: device, the default there) and float32 normalized on the host.
e2e() {
  local note=$1 kind=$2 sluice=$BUILD/tools/sluice/sluice
  local data=$WORK/e2e-$kind-$E2E_IMAGES photos=$CARRY/photos batch=${BATCHES%% *} model=${MODELS_LIST%% *}
  [[ -x $sluice ]] && "$sluice" help 2>/dev/null | grep -q '^  run ' || {
    local missing
    missing=$(ldd "$sluice" 2>/dev/null | awk '/not found/ { printf "%s ", $1 }')
    if [[ -n $missing ]]; then echo "sluice CLI cannot start: missing $missing(carry their .debs)" >"$note"; else echo "sluice has no run command" >"$note"; fi
    return 1
  }
  if [[ ! -f $data/_done ]]; then
    rm -rf "$data"
    if [[ $kind == jpeg ]]; then
      [[ -d $photos ]] || { echo "no photos: run scripts/gpu_prepare.sh and carry .gpu-carry" >"$note"; return 1; }
      "$sluice" datagen jpeg --out "$data" --images "$E2E_IMAGES" --per-file 1000 --photos "$photos" >/dev/null || return 1
    else
      "$sluice" datagen raw --out "$data" --images "$E2E_IMAGES" --per-file 1000 >/dev/null || return 1
    fi
    touch "$data/_done"
  fi
  local dtype=${DTYPES##* } s h p
  cat >"$WORK/job-$kind.yaml" <<YAML
input: {uri: "$data/*.parquet", shard_rows: 1000}
model: {uri: "$WORK/models/$model.pt", device: cuda, batch_size: $batch, dtype: $dtype}
output: {uri: "$WORK/out-$kind"}
resources: {memory: 8GiB}
YAML
  "$sluice" run "$WORK/job-$kind.yaml" --overwrite --progress plain --summary-json "$WORK/e2e-$kind.json" \
    --report "$OUT_DIR/report-$kind.html" || return 1
  s=$(sed -n 's/.*"rows_per_s": *\([0-9.]*\).*/\1/p' "$WORK/e2e-$kind.json")
  # The GPU as NVML saw it during the run (the report's GPU timelines; empty without NVML).
  local g
  g=$("$PY" -c 'import json, sys
gpus = json.load(open(sys.argv[1]))["stats"]["gpus"]
print(" ".join("nvml_gpu%d=%s avg_util=%.3f peak_mem_mib=%d samples=%d" % (x["index"], x["name"].replace(" ", "_"), x["avg_utilization"],
      x["peak_memory_used_bytes"] >> 20, len(x["timeline"])) for x in gpus) or "nvml=none")' "$WORK/e2e-$kind.json")
  echo "e2e kind=$kind $g" | tee -a "$RESULTS"
  "$sluice" run "$WORK/job-$kind.yaml" --overwrite --progress none --set model.normalize=host \
    --summary-json "$WORK/e2e-$kind-host.json" || return 1
  h=$(sed -n 's/.*"rows_per_s": *\([0-9.]*\).*/\1/p' "$WORK/e2e-$kind-host.json")
  echo "e2e kind=$kind dtype=$dtype normalize=host sluice_rows_per_s=$h" | tee -a "$RESULTS"
  p=$("$PY" bench/pytorch_pipeline.py --data "$data/*.parquet" --model "$WORK/models/$model.pt" --batch-size "$batch" \
        --workers "$(nproc)" --kind "$kind" --device cuda --dtype "$dtype" | sed -n 's/.*"images_per_s": *\([0-9.]*\).*/\1/p')
  echo "e2e kind=$kind images=$E2E_IMAGES batch=$batch dtype=$dtype normalize=device sluice_rows_per_s=$s pytorch_images_per_s=$p" | tee -a "$RESULTS"
  awk -v a="$s" -v b="$p" 'BEGIN { if (b > 0) printf "sluice %.0f vs pytorch %.0f img/s = %.3f\n", a, b, a / b; else print "no PyTorch number" }' >"$note"
  [[ -n $s ]]
}

# The steps run in child shells (under timeout): they see exported variables and functions only.
export ROOT OUT_DIR RESULTS JOBS MODELS_LIST BATCHES DTYPES E2E_IMAGES BUILD CARRY DEPS WORK PY NVCC BIN
export -f say use_carried_debs configure configure_any build gtest sanitize normalize_bench preprocess_ceiling \
  make_models model_bench e2e

main() {
  mkdir -p "$WORK"
  : >"$RESULTS"
  echo "step,timestamp,gpu_util,mem_util,mem_used_mib,power_w" >"$SMI_CSV"
  environment
  local note=$WORK/note
  if step configure 180 "$note" configure_any "$note" && step build 300 "$note" build "$note"; then
    export BIN=$BUILD/bench_and_tests
    mkdir -p "$BIN"
    ln -sf "$BUILD/tests/cuda_tests" "$BUILD/tests/cuda_gpu_tests" "$BUILD/bench/cuda_normalize_bench" "$BIN/"
    [[ -x $BUILD/bench/model_bench ]] && HAVE_TORCH=1
    [[ -x $BUILD/tools/sluice/sluice ]] && HAVE_CLI=1
  elif [[ -x $CARRY/bin/cuda_gpu_tests ]]; then
    echo "using the carried prebuilt binaries in $CARRY/bin"
    export BIN=$CARRY/bin
  fi
  if [[ -z $BIN ]]; then
    skip cuda-tests "nothing built and no $CARRY/bin (run scripts/gpu_prepare.sh, carry .gpu-carry)"
  else
    step cuda-tests-host 120 "$note" gtest "$BIN/cuda_tests" "$note"
    step cuda-tests-gpu 180 "$note" gtest "$BIN/cuda_gpu_tests" "$note"
    [[ $SANITIZER == 1 ]] && step memcheck 180 "$note" sanitize "$note"
    step normalize-bench 120 "$note" normalize_bench "$note"
  fi
  if [[ -x $BUILD/bench/preprocess_bench ]]; then
    step preprocess-ceiling 90 "$note" preprocess_ceiling "$note"
  else
    skip preprocess-ceiling "preprocess_bench not built"
  fi
  if ((HAVE_TORCH)); then
    if step make-models 180 "$note" make_models "$note"; then
      local m b d
      for m in $MODELS_LIST; do
        for b in $BATCHES; do
          for d in $DTYPES; do step "model-$m-b$b-$d" 150 "$note" model_bench "$note" "$m" "$b" "$d"; done
        done
      done
      if ((HAVE_CLI)); then
        step e2e-raw 180 "$note" e2e "$note" raw
        step e2e-jpeg 180 "$note" e2e "$note" jpeg
      else
        skip e2e "the sluice CLI did not build"
      fi
    fi
  else
    skip model-bench "no libtorch build (see configure)"
    skip e2e "no libtorch build"
  fi
  print_table
  local st
  for st in "${T_STATUS[@]}"; do [[ $st == FAIL* ]] && return 1; done
  return 0
}

main "$@" 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
