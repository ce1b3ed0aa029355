// A stand-in for the NVIDIA driver's libnvidia-ml.so.1 on machines without a GPU: the few NVML
// entry points gpu_monitor.h loads, answering for one device with figures that change
// predictably from one sample to the next. The job tests load it through SLUICE_NVML_LIBRARY
// to check that GPU samples reach --summary-json and the report; the real NVML is exercised on
// the GPU machine (scripts/gpu_check.sh).
#include <atomic>
#include <cstring>

namespace {
std::atomic<unsigned> g_samples{0};
int g_device_tag = 0;
}  // namespace

extern "C" {

struct FakeUtilization {
  unsigned int gpu, memory;
};
struct FakeMemory {
  unsigned long long total, free, used;
};

int nvmlInit_v2() { return 0; }
int nvmlShutdown() { return 0; }
int nvmlDeviceGetCount_v2(unsigned int* n) {
  *n = 1;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index != 0) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &g_device_tag;
  return 0;
}
int nvmlDeviceGetName(void*, char* name, unsigned int length) {
  std::strncpy(name, "Fake NVML GPU", length);
  return 0;
}
// Utilization 10%, 20%, ..., 90%, 10%, ... per sample; memory grows by 1 MiB per sample.
int nvmlDeviceGetUtilizationRates(void*, FakeUtilization* u) {
  const unsigned n = g_samples.fetch_add(1);
  u->gpu = 10 * (n % 9 + 1);
  u->memory = u->gpu / 2;
  return 0;
}
int nvmlDeviceGetMemoryInfo(void*, FakeMemory* m) {
  m->total = 16ull << 30;
  m->used = (1ull << 30) + (static_cast<unsigned long long>(g_samples.load()) << 20);
  m->free = m->total - m->used;
  return 0;
}

}  // extern "C"
