#include "infer/sleep_backend.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice {
namespace {

struct SleepSpec {
  double per_batch_s = 0.04;
  double per_row_s = 0;
  int classes = 1000;
};

Result<double> Seconds(const std::string& text, const std::string& where) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit = end ? end : "";
  if (end == text.c_str() || v < 0) return Status::InvalidArgument(where + ": '" + text + "' is not a duration such as 40ms or 0.5s");
  if (unit == "ms") return v / 1000;
  if (unit == "s" || unit.empty()) return v;
  if (unit == "us") return v / 1e6;
  return Status::InvalidArgument(where + ": '" + text + "' has an unknown unit (ms, s or us)");
}

Result<SleepSpec> ReadSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("sleep model '" + path + "' cannot be read");
  SleepSpec spec;
  for (std::string word; in >> word;) {
    const size_t eq = word.find('=');
    const std::string key = word.substr(0, eq), value = eq == std::string::npos ? "" : word.substr(eq + 1);
    const std::string where = "sleep model '" + path + "' key " + key;
    if (key == "per_batch") {
      ASSIGN_OR_RETURN(spec.per_batch_s, Seconds(value, where));
    } else if (key == "per_row") {
      ASSIGN_OR_RETURN(spec.per_row_s, Seconds(value, where));
    } else if (key == "classes") {
      spec.classes = std::atoi(value.c_str());
      if (spec.classes < 1) return Status::InvalidArgument(where + ": needs a count >= 1");
    } else {
      return Status::InvalidArgument("sleep model '" + path + "': unknown key '" + key + "' (per_batch, per_row, classes)");
    }
  }
  if (const char* scale = std::getenv("SLUICE_SLEEP_SCALE")) {
    const double s = std::atof(scale);
    if (s > 0) {
      spec.per_batch_s *= s;
      spec.per_row_s *= s;
    }
  }
  return spec;
}

uint64_t Hash(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

class SleepModel final : public Model {
 public:
  SleepModel(SleepSpec spec, ModelOptions options) : spec_(spec), o_(std::move(options)) {}

  Result<Batch> Run(const Column& input) override {
    const int64_t n = input.length();
    std::this_thread::sleep_for(std::chrono::duration<double>(spec_.per_batch_s + spec_.per_row_s * static_cast<double>(n)));
    const int64_t k = o_.top_k > 0 ? std::min(o_.top_k, spec_.classes) : 1;
    std::vector<int32_t> ids(static_cast<size_t>(n * k));
    std::vector<float> scores(static_cast<size_t>(n * k), 1.0f / static_cast<float>(k));
    const size_t row_bytes = static_cast<size_t>(input.type().fixed_row_bytes());
    for (int64_t r = 0; r < n; ++r) {
      const uint64_t h = Hash(static_cast<const uint8_t*>(input.RowData(r)), row_bytes);
      for (int64_t j = 0; j < k; ++j) ids[static_cast<size_t>(r * k + j)] = static_cast<int32_t>((h + static_cast<uint64_t>(j)) % static_cast<uint64_t>(spec_.classes));
    }
    if (o_.top_k == 0) {
      std::vector<float> out(ids.begin(), ids.end());
      ASSIGN_OR_RETURN(Column c, Column::Allocate(DataType::Tensor(DType::kFloat32, {1}), n));
      if (n > 0) std::memcpy(c.MutableRowData(0), out.data(), out.size() * sizeof(float));
      return Batch::Make({"output"}, {std::move(c)});
    }
    std::vector<int64_t> offsets(static_cast<size_t>(n) + 1);
    for (int64_t i = 0; i <= n; ++i) offsets[static_cast<size_t>(i)] = i * k;
    auto offs = [&] { return Buffer::CopyOf({reinterpret_cast<const uint8_t*>(offsets.data()), offsets.size() * 8}); };
    ASSIGN_OR_RETURN(Column id_list, Column::MakeList(n, offs(), Column::FromValues(ids)));
    ASSIGN_OR_RETURN(Column score_list, Column::MakeList(n, offs(), Column::FromValues(scores)));
    return Batch::Make({"top_k_ids", "top_k_scores"}, {std::move(id_list), std::move(score_list)});
  }
  const std::string& device() const override { return o_.device; }

 private:
  SleepSpec spec_;
  ModelOptions o_;
};

class SleepBackend final : public InferenceBackend {
 public:
  std::string name() const override { return "sleep"; }
  std::vector<std::string> devices() const override { return {"cpu"}; }
  std::vector<DType> supported_dtypes() const override { return {DType::kFloat32}; }
  Result<std::unique_ptr<Model>> Load(const ModelOptions& options) override {
    ASSIGN_OR_RETURN(SleepSpec spec, ReadSpec(options.uri));
    return std::unique_ptr<Model>(new SleepModel(spec, options));
  }
};

}  // namespace

std::shared_ptr<InferenceBackend> MakeSleepBackend() { return std::make_shared<SleepBackend>(); }

}  // namespace sluice
