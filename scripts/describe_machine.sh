#!/usr/bin/env bash
# One line on the machine a run happened on (cores, CPU model, the vector extensions the
# engine's choices depend on): printed by `make test` when ctest fails, so CI output says
# where a failure happened.
set -u
model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|avx512_bf16|amx_bf16|amx_tile' | sort -u | tr '\n' ' ')
echo "machine: $(nproc) cores, ${model:-unknown CPU}, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); ${flags:-no AVX2/AVX-512}"
