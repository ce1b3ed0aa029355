#!/usr/bin/env bash
# Installs everything sluice needs to build and test on Debian 12, as root. Idempotent: when
# everything is already there it checks quickly and prints nothing.
#
#   scripts/setup.sh          Debian packages + npm packages (test servers and oracles)
#
# Each later feature adds its packages to the lists below, nowhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build toolchain and test framework.
DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  libsnappy-dev zlib1g-dev libzstd-dev liblz4-dev libbrotli-dev
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev
  python3-torchvision python3-pil python3-numpy libtorch-dev
  python3-zstandard  # ZSTD pages for bench/pytorch_pipeline.py's Parquet reader (no pyarrow in Debian 12)
  python3-opencv  # the OpenCV peer of bench/run_preprocess_breakdown.sh
  nodejs npm
  # multi-worker tests: a real Slurm cluster (munge, slurmctld, 3 slurmd) and Open MPI
  munge slurmctld slurmd slurm-client openmpi-bin libopenmpi-dev
  prometheus  # a real Prometheus scrapes `sluice run --metrics-port` in the job tests
  chromium fonts-dejavu-core fonts-liberation  # run reports opened headless (puppeteer-core) in the job tests
  pybind11-dev python3-pybind11 python3-dev python3-pytest  # the Python module and its tests
  python3-venv python3-setuptools python3-wheel  # `pip install --no-build-isolation .` into a venv (ctest python_install)
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  # npm ships inside some nodejs builds (NodeSource's): do not ask apt for it then.
  if [[ $p == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  # A package counts as present when dpkg has it installed (nodejs from another repo included).
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for test servers and oracles live in tests/peers (package.json); installed
# once per checkout, again only when package.json changes.
PEERS=tests/peers
if [[ -f $PEERS/package.json ]]; then
  stamp=$PEERS/node_modules/.sluice-installed
  if [[ ! -f $stamp || $PEERS/package.json -nt $stamp ]]; then
    echo "setup: installing npm packages in $PEERS"
    (cd "$PEERS" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    mkdir -p "$PEERS/node_modules" && touch "$stamp"
  fi
fi

# Real photographs for the image tests and benchmarks (downloaded .debs, unpacked to a cache).
scripts/fetch_photos.sh
