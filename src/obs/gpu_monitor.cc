#include "sluice/gpu_monitor.h"

#include <dlfcn.h>

#include <cstdlib>

namespace sluice {

// The few NVML entry points used here, with the C ABI of nvml.h (stable since NVML's v2 API).
struct GpuMonitor::Api {
  struct Utilization {
    unsigned int gpu, memory;
  };
  struct Memory {
    unsigned long long total, free, used;
  };
  using Device = void*;
  int (*init)();
  int (*count)(unsigned int*);
  int (*handle)(unsigned int, Device*);
  int (*name)(Device, char*, unsigned int);
  int (*utilization)(Device, Utilization*);
  int (*memory)(Device, Memory*);
};

namespace {

constexpr size_t kMaxPoints = 3600;

const GpuMonitor::Api* LoadNvml() {
  static const GpuMonitor::Api* api = []() -> const GpuMonitor::Api* {
    const char* path = std::getenv("SLUICE_NVML_LIBRARY");
    void* lib = dlopen(path && *path ? path : "libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return nullptr;
    auto* a = new GpuMonitor::Api{};
    a->init = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlInit_v2"));
    a->count = reinterpret_cast<int (*)(unsigned int*)>(dlsym(lib, "nvmlDeviceGetCount_v2"));
    a->handle = reinterpret_cast<int (*)(unsigned int, GpuMonitor::Api::Device*)>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    a->name = reinterpret_cast<int (*)(GpuMonitor::Api::Device, char*, unsigned int)>(dlsym(lib, "nvmlDeviceGetName"));
    a->utilization = reinterpret_cast<int (*)(GpuMonitor::Api::Device, GpuMonitor::Api::Utilization*)>(
        dlsym(lib, "nvmlDeviceGetUtilizationRates"));
    a->memory = reinterpret_cast<int (*)(GpuMonitor::Api::Device, GpuMonitor::Api::Memory*)>(dlsym(lib, "nvmlDeviceGetMemoryInfo"));
    if (!a->init || !a->count || !a->handle || !a->name || !a->utilization || !a->memory || a->init() != 0) {
      delete a;
      dlclose(lib);
      return nullptr;
    }
    return a;  // loaded for the life of the process
  }();
  return api;
}

}  // namespace

std::unique_ptr<GpuMonitor> GpuMonitor::Open() {
  const Api* api = LoadNvml();
  if (api == nullptr) return nullptr;
  unsigned int n = 0;
  if (api->count(&n) != 0 || n == 0) return nullptr;
  std::unique_ptr<GpuMonitor> m(new GpuMonitor(api));
  for (unsigned int i = 0; i < n; ++i) {
    Api::Device d = nullptr;
    if (api->handle(i, &d) != 0) continue;
    GpuStats g;
    g.index = static_cast<int>(i);
    char name[96] = {0};
    if (api->name(d, name, sizeof(name) - 1) == 0) g.name = name;
    Api::Memory mem{};
    if (api->memory(d, &mem) == 0) g.memory_total_bytes = static_cast<int64_t>(mem.total);
    m->handles_.push_back(d);
    m->gpus_.push_back(std::move(g));
  }
  if (m->gpus_.empty()) return nullptr;
  return m;
}

GpuMonitor::GpuMonitor(const Api* api) : api_(api) {}
GpuMonitor::~GpuMonitor() = default;

void GpuMonitor::Sample(double t_s) {
  std::vector<GpuStats::Point> points;
  for (void* d : handles_) {
    Api::Utilization u{};
    Api::Memory mem{};
    GpuStats::Point p;
    p.t_s = t_s;
    if (api_->utilization(d, &u) == 0) p.utilization = u.gpu / 100.0;
    if (api_->memory(d, &mem) == 0) p.memory_used_bytes = static_cast<int64_t>(mem.used);
    points.push_back(p);
  }
  std::lock_guard lock(mu_);
  ++samples_;
  for (size_t i = 0; i < gpus_.size(); ++i) {
    GpuStats& g = gpus_[i];
    const GpuStats::Point& p = points[i];
    g.avg_utilization += (p.utilization - g.avg_utilization) / static_cast<double>(samples_);
    g.peak_memory_used_bytes = std::max(g.peak_memory_used_bytes, p.memory_used_bytes);
    if (g.timeline.size() >= kMaxPoints) {  // long run: keep every other point
      size_t kept = 0;
      for (size_t j = 0; j < g.timeline.size(); j += 2) g.timeline[kept++] = g.timeline[j];
      g.timeline.resize(kept);
    }
    g.timeline.push_back(p);
  }
}

std::vector<GpuStats> GpuMonitor::stats() const {
  std::lock_guard lock(mu_);
  return gpus_;
}

}  // namespace sluice
