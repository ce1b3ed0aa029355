// The backends compiled into this build register themselves on first use of the registry.
#include "infer/sleep_backend.h"
#include "sluice/inference.h"
#ifdef SLUICE_WITH_TORCH
#include "infer/torch/torch_backend.h"
#endif

namespace sluice {

void RegisterBuiltinBackends() {
  (void)RegisterBackend(MakeSleepBackend());  // benchmarks and coordination tests (sleep_backend.h)
#ifdef SLUICE_WITH_TORCH
  (void)RegisterBackend(MakeTorchBackend());
#endif
}

}  // namespace sluice
