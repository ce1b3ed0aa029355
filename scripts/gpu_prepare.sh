#!/usr/bin/env bash
# Prepares, on the dev machine (Debian 12, CUDA at /usr/local/cuda, no GPU), what
# scripts/gpu_check.sh may be unable to get on a GPU machine, which reaches no package registry:
#
#   .gpu-carry/bin/   cuda_tests, cuda_gpu_tests, cuda_normalize_bench, built here with the CUDA
#                     runtime linked statically: on the GPU machine they need only the driver.
#                     gpu_check.sh runs them when it cannot build sluice there itself.
#   .gpu-carry/photos/ the test photographs (scripts/fetch_photos.sh), for datagen there.
#   .gpu-carry/debs/  (with --debs) the Debian packages of sluice's build dependencies, which
#                     gpu_check.sh unpacks into a private prefix when the GPU machine's image
#                     lacks them, so that sluice and its libtorch backend build there.
#
# .gpu-carry/ is ignored by git; name it in the device tool's `carry`:
#   run(command="scripts/gpu_check.sh", carry=[".gpu-carry"], timeout_s=600)
#
#   scripts/gpu_prepare.sh [--debs] [build-dir (default build-cuda)]
#   JOBS=1 scripts/gpu_prepare.sh ...      parallel compile jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_DEBS=0
if [[ ${1:-} == --debs ]]; then
  WITH_DEBS=1
  shift
fi
BUILD=${1:-build-cuda}
JOBS=${JOBS:-2}
CARRY=.gpu-carry
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
[[ -x $NVCC ]] || { echo "gpu_prepare: $NVCC not found" >&2; exit 1; }

# The Makefile's `cuda` configuration plus the bench and a static CUDA runtime; switched back at
# the end so that `make cuda` finds the build directory as it left it (only a relink follows).
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" \
  -DSLUICE_WITH_TORCH=OFF -DSLUICE_BUILD_CLI=OFF -DSLUICE_BUILD_BENCH=ON -DSLUICE_CUDA_STATIC_RUNTIME=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target cuda_tests cuda_gpu_tests cuda_normalize_bench
mkdir -p "$CARRY/bin"
for b in tests/cuda_tests tests/cuda_gpu_tests bench/cuda_normalize_bench; do
  objcopy --strip-debug "$BUILD/$b" "$CARRY/bin/$(basename "$b")"
  if ldd "$CARRY/bin/$(basename "$b")" | grep -q libcudart; then
    echo "gpu_prepare: $b still needs libcudart.so" >&2
    exit 1
  fi
done
cmake -S . -B "$BUILD" -DSLUICE_BUILD_BENCH=OFF -DSLUICE_CUDA_STATIC_RUNTIME=OFF >/dev/null
echo "gpu_prepare: binaries in $CARRY/bin ($(du -sh "$CARRY/bin" | cut -f1))"

PHOTOS=${SLUICE_PHOTOS:-$HOME/.cache/sluice-photos}
scripts/fetch_photos.sh "$PHOTOS"
rm -rf "$CARRY/photos"
cp -r "$PHOTOS" "$CARRY/photos"

if [[ $WITH_DEBS == 1 ]]; then
  # What scripts/setup.sh installs for building (its DEBIAN_PACKAGES' -dev libraries), with the
  # runtime packages their .so links point to, and pkg-config itself. Not curl's own runtime
  # dependencies: nothing gpu_check.sh builds calls libcurl, and it links with --as-needed.
  DEBS=(
    pkgconf pkgconf-bin libpkgconf3
    libgtest-dev libgmock-dev
    libsnappy-dev libsnappy1v5 zlib1g-dev zlib1g libzstd-dev libzstd1 liblz4-dev liblz4-1 libbrotli-dev libbrotli1
    libturbojpeg0-dev libturbojpeg0 libjpeg62-turbo-dev libjpeg62-turbo libpng-dev libpng16-16 libwebp-dev libwebp7 libwebpdemux2 libwebpmux3
    libyaml-cpp-dev libyaml-cpp0.7 libcurl4-openssl-dev libcurl4 libssl-dev libssl3
  )
  rm -rf "$CARRY/debs"
  mkdir -p "$CARRY/debs"
  (cd "$CARRY/debs" && apt-get download -qq "${DEBS[@]}" 2>&1 | grep -v 'unsandboxed' || true)
  # Epochs are spelled %3a in the names; plain names travel anywhere (dpkg-deb ignores the name).
  for f in "$CARRY"/debs/*%3a*; do [[ -e $f ]] && mv "$f" "${f//%3a/-}"; done
  echo "gpu_prepare: $(ls "$CARRY/debs" | wc -l) packages in $CARRY/debs ($(du -sh "$CARRY/debs" | cut -f1))"
fi
echo "gpu_prepare: carry $CARRY (total $(du -sh "$CARRY" | cut -f1))"
