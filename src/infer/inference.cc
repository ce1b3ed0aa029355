// Backend registry and the inference actor.
#include <algorithm>
#include <map>
#include <mutex>

#include "sluice/inference.h"

namespace sluice {

void RegisterBuiltinBackends();  // defined by the backends linked in (src/infer/builtin_backends.cc)

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<InferenceBackend>> backends;
};

Registry& TheRegistry() {
  static Registry* r = new Registry();
  return *r;
}

class InferenceActor : public Actor {
 public:
  InferenceActor(std::unique_ptr<Model> model, std::string input, int warmup_batches, int64_t warmup_rows)
      : model_(std::move(model)), input_(std::move(input)), warmup_batches_(warmup_batches), warmup_rows_(warmup_rows) {}
  Result<Batch> Process(Batch batch, TaskContext&) override {
    ASSIGN_OR_RETURN(Column in, batch.GetColumn(input_));
    // Warm-up (kernel selection, allocator pools, lazy initialization) on the first batch's
    // shape, before the real work: only now is the input shape known.
    for (; warmup_batches_ > 0 && in.length() > 0; --warmup_batches_) {
      RETURN_IF_ERROR(model_->Run(in.Slice(0, std::min(in.length(), std::max<int64_t>(1, warmup_rows_)))).status());
    }
    ASSIGN_OR_RETURN(Batch out, model_->Run(in));
    std::vector<std::string> keep;
    for (const auto& n : batch.names()) {
      if (n != input_) keep.push_back(n);
    }
    ASSIGN_OR_RETURN(Batch rest, batch.Select(keep));
    for (int c = 0; c < out.num_columns(); ++c) {
      ASSIGN_OR_RETURN(rest, rest.WithColumn(out.name(c), out.column(c)));
    }
    return rest;
  }

 private:
  std::unique_ptr<Model> model_;
  std::string input_;
  int warmup_batches_;
  int64_t warmup_rows_;
};

}  // namespace

Status RegisterBackend(std::shared_ptr<InferenceBackend> backend) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  const std::string name = backend->name();
  if (!r.backends.emplace(name, std::move(backend)).second) return Status::InvalidArgument("backend '" + name + "' is registered twice");
  return Status::OK();
}

Result<std::shared_ptr<InferenceBackend>> GetBackend(const std::string& name) {
  static std::once_flag builtins;
  std::call_once(builtins, RegisterBuiltinBackends);
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.backends.find(name);
  if (it == r.backends.end()) {
    std::string known;
    for (const auto& [n, b] : r.backends) known += (known.empty() ? "" : ", ") + n;
    return Status::NotFound("no inference backend '" + name + "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

ActorFactory MakeInferenceActor(std::string backend, ModelOptions options, std::string input_column, std::vector<std::string> devices) {
  return [backend, options, input_column, devices](int replica) -> Result<std::unique_ptr<Actor>> {
    ASSIGN_OR_RETURN(auto b, GetBackend(backend));
    ModelOptions o = options;
    if (!devices.empty()) o.device = devices[static_cast<size_t>(replica) % devices.size()];
    ASSIGN_OR_RETURN(auto model, b->Load(o));
    return std::unique_ptr<Actor>(new InferenceActor(std::move(model), input_column, o.warmup_batches, o.warmup_batch_size));
  };
}

}  // namespace sluice
