// The stages between reading and writing, and the model side of a job (job_chain.h).
#include "job/job_chain.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>

namespace sluice::job {
namespace {

DType ModelDType(const std::string& name) {
  if (name == "float16") return DType::kFloat16;
  if (name == "bfloat16") return DType::kBFloat16;
  return DType::kFloat32;
}

/// The model's devices: cuda ones when asked for or (auto) present, else the CPU.
Result<std::vector<std::string>> ResolveDevices(const JobSpec& spec, InferenceBackend& backend) {
  const auto available = backend.devices();
  std::vector<std::string> cuda;
  for (const auto& d : available) {
    if (d.rfind("cuda", 0) == 0) cuda.push_back(d);
  }
  const std::string& want = spec.model.device;
  if (want == "cpu") return std::vector<std::string>{"cpu"};
  if (want == "auto") return cuda.empty() ? std::vector<std::string>{"cpu"} : cuda;
  if (want == "cuda") {
    if (cuda.empty()) return Status::InvalidArgument("model.device is cuda but this build or machine has no CUDA device");
    return cuda;
  }
  if (want.rfind("cuda:", 0) == 0) {
    std::vector<std::string> out;
    std::stringstream ss(want.substr(5));
    for (std::string id; std::getline(ss, id, ',');) {
      const std::string d = "cuda:" + id;
      if (std::find(cuda.begin(), cuda.end(), d) == cuda.end()) return Status::InvalidArgument("model.device: '" + d + "' is not available");
      out.push_back(d);
    }
    return out;
  }
  return Status::InvalidArgument("model.device is '" + want + "'; expected auto, cpu, cuda or cuda:0,1");
}

/// `preprocess: none`: the image column, renamed, is the model's input.
MapFn PassThroughMap(std::string from, std::string to) {
  return [from, to](Batch b, TaskContext&) -> Result<Batch> {
    ASSIGN_OR_RETURN(Column c, b.GetColumn(from));
    std::vector<std::string> keep;
    for (const auto& n : b.names()) {
      if (n != from) keep.push_back(n);
    }
    ASSIGN_OR_RETURN(Batch rest, b.Select(keep));
    return rest.WithColumn(to, std::move(c));
  };
}

/// A user stage as the plan runs it: the stage sees the batch without the shard column, must
/// give back as many rows, and gets the shard column (and the id, if it dropped it) back; the
/// bad rows it reports (by id) reach `on_bad` with their shard.
class UserStageActor final : public Actor {
 public:
  UserStageActor(std::unique_ptr<Actor> inner, ShardBadRowHandler on_bad) : inner_(std::move(inner)), on_bad_(std::move(on_bad)) {}

  Result<Batch> Process(Batch batch, TaskContext& ctx) override {
    if (batch.num_rows() == 0) return batch;
    ASSIGN_OR_RETURN(Column shard, batch.GetColumn(kShardColumn));
    ASSIGN_OR_RETURN(Batch in, WithoutShardColumn(batch));
    const int id_at = batch.FindColumn("id");
    std::unordered_multimap<std::string, int64_t> rows_of_id;  // built at the first bad row
    int64_t bad = 0;
    TaskContext::BadRowHandler seen = [&](BadRow row) -> Status {
      ++bad;
      if (on_bad_ && id_at >= 0 && batch.column(id_at).type().id() == TypeId::kString) {
        if (rows_of_id.empty()) {
          for (int64_t r = 0; r < batch.num_rows(); ++r) rows_of_id.emplace(std::string(batch.column(id_at).ValueBytes(r)), r);
        }
        auto it = rows_of_id.find(row.row_id);
        if (it == rows_of_id.end()) return Status::InvalidArgument("stage '" + ctx.stage() + "' reported a bad row '" + row.row_id + "' that is not in its batch");
        on_bad_(*reinterpret_cast<const int32_t*>(shard.RowData(it->second)), row);
        rows_of_id.erase(it);
      }
      return ctx.ReportBadRow(std::move(row));
    };
    TaskContext tagged(ctx.stage(), ctx.replica(), ctx.stop_token(), &seen, ctx.allocator());
    const int64_t rows = in.num_rows();
    Column ids = id_at >= 0 ? batch.column(id_at) : Column();
    ASSIGN_OR_RETURN(Batch out, inner_->Process(std::move(in), tagged));
    if (bad > 0 && out.num_rows() == 0) return out;  // the whole batch was recorded bad
    if (bad > 0) return Status::InvalidArgument("stage '" + ctx.stage() + "' reported bad rows and returned rows: report all of a batch's rows or none");
    if (out.num_rows() != rows) {
      return Status::InvalidArgument("stage '" + ctx.stage() + "' returned " + std::to_string(out.num_rows()) + " rows for a batch of " +
                                     std::to_string(rows) + "; a stage returns one row for each row it gets");
    }
    if (out.FindColumn(kShardColumn) >= 0) return Status::InvalidArgument("stage '" + ctx.stage() + "' returned the engine's column '" + kShardColumn + "'");
    if (id_at >= 0 && out.FindColumn("id") < 0) {
      ASSIGN_OR_RETURN(out, out.WithColumn("id", ids));
    }
    return out.WithColumn(kShardColumn, shard);
  }
  Status Finish(TaskContext& ctx) override { return inner_->Finish(ctx); }

 private:
  std::unique_ptr<Actor> inner_;
  ShardBadRowHandler on_bad_;
};

/// `inner`, refusing batches without `column` with an error that says which stage had to make it.
ActorFactory RequireColumn(ActorFactory inner, std::string column, std::string maker) {
  class Checked final : public Actor {
   public:
    Checked(std::unique_ptr<Actor> a, std::string column, std::string maker) : a_(std::move(a)), column_(std::move(column)), maker_(std::move(maker)) {}
    Result<Batch> Process(Batch batch, TaskContext& ctx) override {
      if (batch.num_rows() > 0 && batch.FindColumn(column_) < 0) {
        return Status::InvalidArgument("stage '" + maker_ + "' returned no column '" + column_ + "', which the " + ctx.stage() +
                                       " stage reads (its batches have " + batch.Describe() + ")");
      }
      return a_->Process(std::move(batch), ctx);
    }
    Status Finish(TaskContext& ctx) override { return a_->Finish(ctx); }

   private:
    std::unique_ptr<Actor> a_;
    std::string column_, maker_;
  };
  return [inner, column, maker](int replica) -> Result<std::unique_ptr<Actor>> {
    ASSIGN_OR_RETURN(auto a, inner(replica));
    return std::unique_ptr<Actor>(new Checked(std::move(a), column, maker));
  };
}

}  // namespace

ActorFactory JobModel::ModelActor() const {
  if (models.empty()) return nullptr;
  ActorFactory inner = MakeInferenceActor(models, "input");
  if (!gate) return inner;
  class Gated final : public Actor {
   public:
    Gated(std::unique_ptr<Actor> a, std::shared_ptr<CpuGate> g) : a_(std::move(a)), g_(std::move(g)) {}
    Result<Batch> Process(Batch batch, TaskContext& ctx) override {
      CpuGate::ModelTurn turn(g_.get());
      return a_->Process(std::move(batch), ctx);
    }
    Status Finish(TaskContext& ctx) override { return a_->Finish(ctx); }

   private:
    std::unique_ptr<Actor> a_;
    std::shared_ptr<CpuGate> g_;
  };
  return [inner, gate = gate](int replica) -> Result<std::unique_ptr<Actor>> {
    ASSIGN_OR_RETURN(auto a, inner(replica));
    return std::unique_ptr<Actor>(new Gated(std::move(a), gate));
  };
}

MapFn JobModel::GatedPreprocess() const {
  if (!gate) return preprocess;
  return [inner = preprocess, gate = gate](Batch b, TaskContext& ctx) {
    CpuGate::PreprocessTurn turn(gate.get());
    return inner(std::move(b), ctx);
  };
}

void JobModel::DescribeDType(const JobSpec& spec, JobResult* result) const {
  if (models.empty()) return;
  if (!auto_dtype) {
    result->model_dtype = spec.model.dtype;
    return;
  }
  result->model_dtype = std::string(DTypeName(auto_dtype->dtype()));
  result->model_dtype_why = auto_dtype->why();
}

Result<JobModel> PrepareJobModel(const JobSpec& spec, const JobInput& input, int cpus) {
  JobModel jm;
  jm.pre = spec.preprocess;
  // What the model receives: the preprocessing's output, or with `preprocess: none` the image
  // column itself, which must then be a float tensor already shaped for the model.
  if (spec.preprocess_none && !spec.model_none) {
    const DataType& t = input.image_type;
    const bool float_tensor = t.id() == TypeId::kTensor && (t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat16 ||
                                                            t.dtype() == DType::kBFloat16);
    if (spec.input.format != "parquet" || !float_tensor) {
      return Status::InvalidArgument("preprocess: none sends input.image_column '" + spec.input.image_column +
                                     "' to the model as it is, so it must be a float tensor column (it is " +
                                     (spec.input.format == "parquet" ? t.ToString() : std::string("image files")) + ")");
    }
  }
  ModelOptions mo;
  std::vector<std::string> devices{"cpu"};
  if (!spec.model_none) {
    ASSIGN_OR_RETURN(auto backend, GetBackend(spec.model.backend));
    if (spec.model.uri.find("://") != std::string::npos) {
      return Status::InvalidArgument("model.uri '" + spec.model.uri + "': models are loaded from local files");
    }
    ASSIGN_OR_RETURN(devices, ResolveDevices(spec, *backend));
  }
  mo.uri = spec.model.uri;
  mo.device = devices.front();
  mo.dtype = ModelDType(spec.model.dtype);
  mo.top_k = spec.output.top_k;
  mo.lists = true;
  mo.intra_op_threads = spec.model.threads > 0 ? spec.model.threads : (mo.device == "cpu" ? cpus : 0);
  jm.on_gpu = mo.device.rfind("cuda", 0) == 0;
  // What cuDNN's convolutions run fastest in (tensor cores); on a CPU, oneDNN's bfloat16
  // convolutions (AVX512-BF16 / AMX) need it too: resnet50 at 2 threads on an AVX512-BF16 EPYC
  // ran 11.9 images/s in bfloat16 NCHW and 24.9 in channels_last (float32: 11.3; RESULTS.md).
  mo.channels_last = jm.on_gpu || mo.dtype == DType::kBFloat16;
  const bool auto_dtype = spec.model.dtype == "auto";
  // Device normalization: the host sends uint8 crops, the model's device normalizes them.
  const bool device_normalize =
      !spec.preprocess_none && (spec.model.normalize == "device" || (spec.model.normalize == "auto" && jm.on_gpu));
  if (device_normalize) {
    const PreprocessSpec& p = spec.preprocess;
    if (!p.normalize || p.layout != Layout::kNCHW || p.dtype != DType::kFloat32) {
      return Status::InvalidArgument("model.normalize: device needs the preprocess defaults normalize: true, layout: nchw, dtype: float32");
    }
    mo.device_normalize = true;
    mo.mean = p.mean;
    mo.std = p.std;
    jm.pre.normalize = false;
    jm.pre.layout = Layout::kNHWC;
    jm.pre.dtype = DType::kUInt8;
  }
  RETURN_IF_ERROR(jm.pre.Validate());
  if (spec.preprocess_none && spec.model_none) {
    jm.preprocess = [](Batch b, TaskContext&) -> Result<Batch> { return b; };  // the rows as read
  } else {
    jm.preprocess = spec.preprocess_none ? PassThroughMap("image", "input") : MakePreprocessMap(jm.pre, "image", "id", "input");
  }
  if (spec.model_none) return jm;
  jm.gate = jm.on_gpu ? nullptr : std::make_shared<CpuGate>();
  const DataType model_input = spec.preprocess_none ? input.image_type : jm.pre.OutputType();
  // Models load (all devices in parallel) and warm up before any data moves; on a GPU the
  // warm-up runs the real batch size so cuDNN tunes the shape that will run.
  // Auto: two replicas per GPU, each on its own CUDA stream, so one's upload and
  // normalization overlap the other's inference; one replica on the CPU.
  const int replicas = spec.model.replicas > 0 ? spec.model.replicas : static_cast<int>(devices.size()) * (jm.on_gpu ? 2 : 1);
  std::vector<std::string> replica_devices;
  for (int r = 0; r < replicas; ++r) replica_devices.push_back(devices[static_cast<size_t>(r) % devices.size()]);
  const int64_t warmup_rows = jm.on_gpu ? spec.model.batch_size : 1;
  AutoDTypeOptions ao;
  ao.trial_rows = std::max<int64_t>(ao.trial_rows, spec.model.batch_size);  // at least one whole batch
  ao.calibration_rows = std::min<int64_t>(ao.calibration_rows, spec.model.batch_size);
  if (auto_dtype) jm.auto_dtype = std::make_shared<AutoDType>();
  auto models = auto_dtype ? LoadAutoDTypeModels(spec.model.backend, mo, replica_devices, model_input, warmup_rows, ao, jm.auto_dtype)
                           : LoadModels(spec.model.backend, mo, replica_devices, model_input, warmup_rows);
  if (!models.ok()) return models.status().WithContext("model.uri");
  jm.models = std::move(*models);
  return jm;
}

void AddJobStages(Plan& plan, const JobSpec& spec, MapFn preprocess, ActorFactory model, int replicas,
                  const std::vector<UserStage>& stages, const ShardBadRowHandler& on_bad, int cpus) {
  const auto add_user = [&](UserStage::Place place) {
    for (const UserStage& u : stages) {
      if (u.place != place) continue;
      if (u.batch_rows > 0) plan.AddRebatch(u.name + ".batch", u.batch_rows);
      ActorFactory inner = u.actor;
      plan.AddActor(u.name, [inner, on_bad](int replica) -> Result<std::unique_ptr<Actor>> {
        ASSIGN_OR_RETURN(auto a, inner(replica));
        return std::unique_ptr<Actor>(new UserStageActor(std::move(a), on_bad));
      }, std::max(1, u.replicas));
    }
  };
  add_user(UserStage::Place::kAfterRead);
  plan.AddMap("preprocess", std::move(preprocess), Concurrency::Auto(1, cpus));
  add_user(UserStage::Place::kAfterPreprocess);
  if (model) {
    const UserStage* last_before = nullptr;  // the last user stage the model's input passes
    for (const UserStage& u : stages) {
      if (u.place == UserStage::Place::kAfterPreprocess) last_before = &u;
    }
    if (last_before) model = RequireColumn(std::move(model), "input", last_before->name);
    plan.AddRebatch("batch", spec.model.batch_size).AddActor("model", std::move(model), replicas);
  }
  add_user(UserStage::Place::kAfterModel);
}

std::vector<std::string> JobOutputColumns(const JobSpec& spec, const JobInput& input, const std::vector<UserStage>& stages) {
  if (!stages.empty()) return {};
  std::vector<std::string> columns = input.columns;
  if (spec.model_none && spec.preprocess_none) return columns;  // the rows as read
  columns.erase(columns.begin() + 1);  // the image does not go to the output
  if (spec.model_none) {
    columns.push_back("input");
  } else if (spec.output.top_k > 0) {
    columns.insert(columns.end(), {"top_k_ids", "top_k_scores"});
  } else {
    columns.push_back("output");
  }
  return columns;
}

}  // namespace sluice::job
