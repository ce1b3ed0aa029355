// Backend registry and the inference actor.
#include <algorithm>
#include <map>
#include <mutex>

#include "sluice/inference.h"

#include <cstring>
#include <future>

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
  InferenceActor(std::shared_ptr<Model> model, std::string input, int warmup_batches, int64_t warmup_rows)
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
  std::shared_ptr<Model> model_;  // shared when loaded before the plan (LoadModels)
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

Result<std::vector<std::shared_ptr<Model>>> LoadModels(const std::string& backend, const ModelOptions& options,
                                                      const std::vector<std::string>& devices, const DataType& input_type,
                                                      int64_t warmup_rows) {
  ASSIGN_OR_RETURN(auto b, GetBackend(backend));
  auto load = [&](const std::string& device) -> Result<std::shared_ptr<Model>> {
    ModelOptions o = options;
    o.device = device;
    ASSIGN_OR_RETURN(std::unique_ptr<Model> model, b->Load(o));
    if (warmup_rows > 0 && options.warmup_batches > 0) {
      ASSIGN_OR_RETURN(Column zeros, Column::Allocate(input_type, warmup_rows));
      std::memset(zeros.MutableRowData(0), 0, static_cast<size_t>(input_type.fixed_row_bytes() * warmup_rows));
      for (int i = 0; i < options.warmup_batches; ++i) RETURN_IF_ERROR(model->Run(zeros).status());
    }
    return std::shared_ptr<Model>(std::move(model));
  };
  std::vector<std::future<Result<std::shared_ptr<Model>>>> pending;
  for (const auto& d : devices) pending.push_back(std::async(std::launch::async, load, d));
  std::vector<std::shared_ptr<Model>> models;
  Status first;
  for (auto& p : pending) {
    auto m = p.get();
    if (!m.ok() && first.ok()) first = m.status();
    if (m.ok()) models.push_back(*m);
  }
  if (!first.ok()) return first;
  return models;
}

ActorFactory MakeInferenceActor(std::vector<std::shared_ptr<Model>> models, std::string input_column) {
  return [models, input_column](int replica) -> Result<std::unique_ptr<Actor>> {
    if (models.empty()) return Status::InvalidArgument("no models for the inference actor");
    return std::unique_ptr<Actor>(new InferenceActor(models[static_cast<size_t>(replica) % models.size()], input_column, 0, 0));
  };
}

}  // namespace sluice
