#pragma once
/// Host-side planning of a normalize launch: which kernel variant, how many blocks, and the
/// kernel's arguments with their table. Pure functions of the spec and the pointers, so they
/// are tested on machines without a GPU.
///
/// Threading: pure functions.

#include <cstdint>

#include "normalize_kernel.h"
#include "sluice/cuda_preprocess.h"

namespace sluice::gpu {

/// `spec` must be valid and non-empty; `sm_count` is the device's multiprocessor count (> 0).
/// Addresses only decide alignment (the vectorized variants need the input 4-byte aligned and
/// the output aligned to 4 elements).
NormalizeLaunchPlan PlanNormalizeLaunch(const NormalizeSpec& spec, uintptr_t input, uintptr_t output, int sm_count);

/// The kernel's arguments: sizes and the table of NormalizedBits for every channel and value.
NormalizeKernelArgs MakeNormalizeKernelArgs(const NormalizeSpec& spec, const uint8_t* input, void* output);

}  // namespace sluice::gpu
