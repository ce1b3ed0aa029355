#pragma once
/// GPU utilization and memory through NVML, loaded at run time: a machine without an NVIDIA
/// driver (or a build without CUDA) simply has no GPUs to sample, never an error.
///
/// The library is libnvidia-ml.so.1 from the driver, or the file named by SLUICE_NVML_LIBRARY.
/// Every NVML device is sampled (NVML numbers devices by PCI order, not CUDA_VISIBLE_DEVICES).
///
/// Threading: Open may be called from any thread (NVML is loaded once per process). A
/// GpuMonitor's Sample and stats may be called from different threads.

#include <memory>
#include <mutex>
#include <vector>

#include "sluice/stats.h"

namespace sluice {

class GpuMonitor {
 public:
  /// nullptr when NVML cannot be loaded or sees no device.
  static std::unique_ptr<GpuMonitor> Open();
  ~GpuMonitor();

  /// Reads each device's utilization and memory now and adds a point at `t_s`.
  void Sample(double t_s);
  /// The devices with their points so far (a long run keeps every other point past 3600).
  std::vector<GpuStats> stats() const;

  struct Api;

 private:
  explicit GpuMonitor(const Api* api);
  const Api* api_;
  mutable std::mutex mu_;
  std::vector<void*> handles_;
  std::vector<GpuStats> gpus_;
  int64_t samples_ = 0;
};

}  // namespace sluice
