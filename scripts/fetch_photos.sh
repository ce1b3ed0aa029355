#!/usr/bin/env bash
# Real photographs for tests and benchmarks, from Debian packages (not installed: downloaded and
# unpacked into a cache outside git). Idempotent and quiet when done.
#   scripts/fetch_photos.sh [DIR]     default DIR: ${SLUICE_PHOTOS:-~/.cache/sluice-photos}
set -euo pipefail
DIR=${1:-${SLUICE_PHOTOS:-$HOME/.cache/sluice-photos}}
[[ -f $DIR/.complete ]] && exit 0
echo "fetching test photographs into $DIR"
mkdir -p "$DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq python-matplotlib-data python3-sklearn python3-skimage 2>/dev/null) || {
  apt-get update -qq && (cd "$work" && apt-get download -qq python-matplotlib-data python3-sklearn python3-skimage)
}
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
sk=$work/x/usr/lib/python3/dist-packages
for f in "$sk"/sklearn/datasets/images/{china,flower}.jpg \
         "$work"/x/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg \
         "$sk"/skimage/data/{astronaut,chelsea,coffee,motorcycle_left,camera,ihc,brick,grass}.png \
         "$sk"/skimage/data/{rocket,retina,hubble_deep_field}.jpg; do
  cp "$f" "$DIR/"
done
touch "$DIR/.complete"
