#!/usr/bin/env bash
# Runs every fuzz target built in FUZZ_BUILD for SECONDS, seeded with files the test suite
# generated in BUILD (the Parquet interop matrix, the image parity variants) and the photographs. Prints one line per target and a final
# "N passed, M failed"; a crash, sanitizer report, leak, timeout or OOM fails.
#   scripts/run_fuzz.sh FUZZ_BUILD SECONDS [BUILD]
set -uo pipefail
FUZZ_BUILD=$1
SECONDS_EACH=$2
BUILD=${3:-build}
passed=0
failed=0
for target in "$FUZZ_BUILD"/tests/fuzz/*_fuzz; do
  name=$(basename "$target")
  corpus="$FUZZ_BUILD/corpus/$name"
  seeds="$FUZZ_BUILD/seeds/$name"
  mkdir -p "$corpus" "$seeds"
  if [[ $name == parquet_* ]]; then
    find "$BUILD/tests/parquet_interop/files" -name '*.parquet' -size -256k -exec cp -t "$seeds" {} + 2>/dev/null || true
  elif [[ $name == image_* ]]; then
    find "$BUILD/tests/image_parity/images" "${SLUICE_PHOTOS:-$HOME/.cache/sluice-photos}" -type f -size -256k \
      -exec cp -t "$seeds" {} + 2>/dev/null || true
  fi
  # Inputs that once failed stay among the seeds: tests/fuzz/regressions/<target prefix>_*.
  find tests/fuzz/regressions -name "${name%%_*}_*" -exec cp -t "$seeds" {} + 2>/dev/null || true
  log="$FUZZ_BUILD/$name.log"
  if (cd "$FUZZ_BUILD" && "$OLDPWD/$target" "$OLDPWD/$corpus" "$OLDPWD/$seeds" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
       -max_len=262144 -print_final_stats=1) >"$log" 2>&1; then
    echo "ok $name: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') runs in ${SECONDS_EACH}s"
    passed=$((passed + 1))
  else
    echo "FAIL $name (log: $log):"
    grep -E "ERROR|SUMMARY|==[0-9]+==" "$log" | head -20
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
