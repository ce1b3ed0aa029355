// The backends compiled into this build register themselves on first use of the registry.
#include "sluice/inference.h"
#ifdef SLUICE_WITH_TORCH
#include "infer/torch/torch_backend.h"
#endif

namespace sluice {

void RegisterBuiltinBackends() {
#ifdef SLUICE_WITH_TORCH
  (void)RegisterBackend(MakeTorchBackend());
#endif
}

}  // namespace sluice
