# The two commands of the README: `make demo` and `make test`. Both set up dependencies and
# build first. Everything else here is for developers.
BUILD ?= build
TSAN_BUILD ?= build-tsan
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CUDA_BUILD ?= build-cuda
RELEASE_BUILD ?= build-release
NVCC ?= /usr/local/cuda/bin/nvcc
FUZZ_SECONDS ?= 60
JOBS ?= 2
CMAKE_FLAGS ?=
# The project's own builds treat warnings as errors (a plain cmake build does not).
OWN := -DSLUICE_WERROR=ON

.PHONY: all setup build demo test test-fast tsan asan fuzz cuda release-check bench clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	@cmake -S . -B $(BUILD) -G Ninja $(OWN) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: setup $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# The whole suite: every test of the normal build, the executor tests under TSan, then the
# fuzz targets for FUZZ_SECONDS each (seeded with the interop files the tests generated), then
# the CUDA tests where nvcc exists.
test: build
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure --timeout 900 || { scripts/describe_machine.sh; exit 1; }
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory release-check
	@$(MAKE) --no-print-directory fuzz
	@if [ -x $(NVCC) ]; then $(MAKE) --no-print-directory cuda; else echo "cuda: skipped ($(NVCC) not found)"; fi

test-fast: build
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure -LE slow

# The build a packager or user makes (`cmake -DCMAKE_BUILD_TYPE=Release`, GCC's -O3), with
# warnings as errors: the library and the CLI must compile cleanly there too. (Measured:
# -O3 is no faster than the -O2 `make` builds on the preprocess and Parquet benches, so the
# tests keep running on RelWithDebInfo; bench/run_build_types.sh.)
$(RELEASE_BUILD)/build.ninja:
	@cmake -S . -B $(RELEASE_BUILD) -G Ninja $(OWN) -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF \
	  -DSLUICE_BUILD_BENCH=OFF >/dev/null

release-check: setup $(RELEASE_BUILD)/build.ninja
	@cmake --build $(RELEASE_BUILD) -j $(JOBS)
	@echo "release-check: Release (-O3) build of the library and CLI compiled cleanly"

$(TSAN_BUILD)/build.ninja:
	@cmake -S . -B $(TSAN_BUILD) -G Ninja $(OWN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=thread \
	  -DSLUICE_BUILD_BENCH=OFF -DSLUICE_BUILD_CLI=OFF -DSLUICE_WITH_TORCH=OFF >/dev/null

tsan: setup $(TSAN_BUILD)/build.ninja
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target exec_tests
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --test-dir $(TSAN_BUILD) -j $(JOBS) --output-on-failure --timeout 600 -L exec

$(FUZZ_BUILD)/build.ninja:
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja $(OWN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON \
	  -DSLUICE_BUILD_BENCH=OFF -DSLUICE_BUILD_CLI=OFF -DSLUICE_WITH_TORCH=OFF >/dev/null

# Runs each fuzz target for FUZZ_SECONDS; a crash, leak, timeout or OOM fails the build.
fuzz: setup $(FUZZ_BUILD)/build.ninja
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/run_fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(BUILD)

$(CUDA_BUILD)/build.ninja:
	@cmake -S . -B $(CUDA_BUILD) -G Ninja $(OWN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WITH_CUDA=ON \
	  -DCMAKE_CUDA_COMPILER=$(NVCC) -DSLUICE_WITH_TORCH=OFF -DSLUICE_BUILD_BENCH=OFF -DSLUICE_BUILD_CLI=OFF >/dev/null

# src/cuda and its tests (label cuda): only those targets are built. Their host-side parts run
# on any machine; the `gpu` tests compare the kernel with the CPU reference and skip without a
# device (scripts/gpu_check.sh runs them on a GPU machine).
cuda: setup $(CUDA_BUILD)/build.ninja
	@cmake --build $(CUDA_BUILD) -j $(JOBS) --target cuda_tests cuda_gpu_tests
	@ctest --test-dir $(CUDA_BUILD) -j $(JOBS) --output-on-failure --timeout 600 -L cuda

$(ASAN_BUILD)/build.ninja:
	@cmake -S . -B $(ASAN_BUILD) -G Ninja $(OWN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=address \
	  -DSLUICE_BUILD_BENCH=OFF -DSLUICE_WITH_TORCH=OFF >/dev/null

asan: setup $(ASAN_BUILD)/build.ninja
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(ASAN_BUILD) -j $(JOBS) --output-on-failure --timeout 600

bench: build
	@bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TSAN_BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(CUDA_BUILD) $(RELEASE_BUILD)
