// The libtorch backend against PyTorch in Python (make_models.py wrote the expected outputs).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <mutex>

#include "sluice/executor.h"
#include "sluice/inference.h"
#include "sluice/npy.h"

namespace sluice {
namespace {

const std::string kModels = SLUICE_MODELS_DIR;

Column Load(const std::string& name) { return ReadNpy(kModels + "/" + name + ".npy").value(); }

std::unique_ptr<Model> LoadModel(const std::string& file, ModelOptions o = {}) {
  o.uri = kModels + "/" + file;
  return GetBackend("torch").value()->Load(o).value();
}

/// Relative closeness of float arrays: |a - b| <= 1e-4 * max(1, |b|).
void ExpectClose(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) ASSERT_LE(std::fabs(a[i] - b[i]), 1e-4 * std::max(1.0f, std::fabs(b[i]))) << "element " << i;
}

class TorchMatchesPython : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(TorchMatchesPython, LogitsAndTopK) {
  const auto& [name, optimize] = GetParam();
  ModelOptions o;
  o.optimize = optimize;
  o.top_k = 0;
  auto raw = LoadModel(name + ".pt", o);
  const Column input = Load(name + "_input");
  Batch out = raw->Run(input).value();
  const Column logits = Load(name + "_logits");
  ASSERT_EQ(out.column(0).TensorShape(), logits.TensorShape());
  ExpectClose(reinterpret_cast<const float*>(out.column(0).RowData(0)), reinterpret_cast<const float*>(logits.RowData(0)),
              logits.length() * logits.type().row_shape()[0]);
  o.top_k = 5;
  Batch top = LoadModel(name + ".pt", o)->Run(input).value();
  EXPECT_EQ(top.names(), (std::vector<std::string>{"top_k_ids", "top_k_scores"}));
  const Column ids = Load(name + "_top5_ids"), scores = Load(name + "_top5_scores");
  EXPECT_EQ(std::memcmp(top.column(0).RowData(0), ids.RowData(0), static_cast<size_t>(ids.ByteSize())), 0);
  ExpectClose(reinterpret_cast<const float*>(top.column(1).RowData(0)), reinterpret_cast<const float*>(scores.RowData(0)), ids.length() * 5);
}

INSTANTIATE_TEST_SUITE_P(Models, TorchMatchesPython,
                         ::testing::Combine(::testing::Values("tiny", "resnet18"), ::testing::Bool()));

TEST(TorchBackendTest, ListOutputs) {
  ModelOptions o;
  o.top_k = 3;
  o.lists = true;
  Batch top = LoadModel("tiny.pt", o)->Run(Load("tiny_input")).value();
  EXPECT_EQ(top.column(0).type(), DataType::List(DataType::Int32()));
  EXPECT_EQ(top.column(1).type(), DataType::List(DataType::Float32()));
  EXPECT_EQ(top.column(0).ListEnd(3) - top.column(0).ListBegin(3), 3);
  const Column ids = Load("tiny_top5_ids");
  EXPECT_EQ(top.column(0).child().Value<int32_t>(top.column(0).ListBegin(2)), reinterpret_cast<const int32_t*>(ids.RowData(2))[0]);
}

TEST(TorchBackendTest, BadInputsNameTheModelAndDevice) {
  auto backend = GetBackend("torch").value();
  ModelOptions o;
  o.uri = kModels + "/missing.pt";
  Status missing = backend->Load(o).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("missing.pt' on cpu"), std::string::npos) << missing.ToString();
  o.uri = kModels + "/not_a_model.pt";
  Status garbage = backend->Load(o).status();
  EXPECT_EQ(garbage.code(), StatusCode::kInvalidData);
  EXPECT_NE(garbage.message().find("not a TorchScript model"), std::string::npos) << garbage.ToString();
  o.uri = kModels + "/tiny.pt";
  o.device = "cuda:0";
  Status no_gpu = backend->Load(o).status();
  EXPECT_FALSE(no_gpu.ok());
  EXPECT_NE(no_gpu.message().find("on cuda:0"), std::string::npos) << no_gpu.ToString();
  EXPECT_EQ(GetBackend("onnx").status().code(), StatusCode::kNotFound);

  auto tiny = LoadModel("tiny.pt");
  auto wrong = Column::Allocate(DataType::Tensor(DType::kFloat32, {4, 32, 32}), 2).value();
  std::memset(wrong.MutableRowData(0), 0, static_cast<size_t>(wrong.ByteSize()));
  Status shape = tiny->Run(wrong).status();
  EXPECT_EQ(shape.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(shape.message().find("tiny.pt' on cpu rejected input Float[2, 4, 32, 32]"), std::string::npos) << shape.ToString();
  Status not_tensor = tiny->Run(Column::FromValues<int64_t>({1, 2})).status();
  EXPECT_NE(not_tensor.message().find("not a tensor"), std::string::npos);

  ModelOptions raw;
  raw.top_k = 0;
  raw.optimize = false;
  auto throws = LoadModel("throws.pt", raw);
  auto neg = Column::Allocate(DataType::Tensor(DType::kFloat32, {16}), 1).value();
  for (int i = 0; i < 16; ++i) reinterpret_cast<float*>(neg.MutableRowData(0))[i] = -1.0f;
  Status thrown = throws->Run(neg).status();
  EXPECT_FALSE(thrown.ok());
  EXPECT_NE(thrown.message().find("the model refuses negative inputs"), std::string::npos) << thrown.ToString();
  reinterpret_cast<float*>(neg.MutableRowData(0))[0] = 1.0f;
  EXPECT_TRUE(throws->Run(neg).ok());  // the replica survives and goes on
}

/// Batches of the tiny model's input rows, ids in a column "id".
class InputSource : public Source {
 public:
  explicit InputSource(Column input) : input_(std::move(input)) {}
  Result<std::unique_ptr<ReadTask>> NextTask() override {
    if (next_ >= 12) return std::unique_ptr<ReadTask>();
    struct Task : ReadTask {
      Column input;
      int64_t id;
      bool done = false;
      Result<std::optional<Batch>> Next(TaskContext&) override {
        if (done) return std::optional<Batch>();
        done = true;
        std::vector<int64_t> ids;
        for (int64_t r = 0; r < input.length(); ++r) ids.push_back(id * 100 + r);
        ASSIGN_OR_RETURN(Batch b, Batch::Make({"id", "pixels"}, {Column::FromValues<int64_t>(ids), input}));
        return std::optional<Batch>(std::move(b));
      }
      std::string Describe() const override { return "inputs"; }
    };
    auto t = std::make_unique<Task>();
    t->input = input_;
    t->id = next_++;
    return std::unique_ptr<ReadTask>(std::move(t));
  }

 private:
  Column input_;
  int64_t next_ = 0;
};

TEST(InferenceActorTest, TwoReplicasInOrder) {
  const Column input = Load("tiny_input");
  std::mutex mu;
  std::vector<int64_t> ids;
  std::vector<int32_t> top1;
  struct Collect : Sink {
    std::mutex* mu;
    std::vector<int64_t>* ids;
    std::vector<int32_t>* top1;
    Status Write(Batch b, TaskContext&) override {
      std::lock_guard lock(*mu);
      if (b.FindColumn("pixels") >= 0) return Status::Internal("the input column should be gone");
      for (int64_t r = 0; r < b.num_rows(); ++r) {
        ids->push_back(b.column(0).Value<int64_t>(r));
        top1->push_back(reinterpret_cast<const int32_t*>(b.GetColumn("top_k_ids").value().RowData(r))[0]);
      }
      return Status::OK();
    }
  };
  ModelOptions o;
  o.uri = kModels + "/tiny.pt";
  o.intra_op_threads = 1;
  Plan plan;
  plan.AddSource("read", std::make_shared<InputSource>(input))
      .AddActor("model", MakeInferenceActor("torch", o, "pixels"), 2)
      .AddSink("collect", [&](int) -> Result<std::unique_ptr<Sink>> {
        auto s = std::make_unique<Collect>();
        s->mu = &mu, s->ids = &ids, s->top1 = &top1;
        return std::unique_ptr<Sink>(std::move(s));
      });
  ExecutorOptions eo;
  eo.preserve_order = true;
  PlanStats stats;
  ASSERT_TRUE(Execute(plan, eo, &stats).ok()) << stats.status;
  ASSERT_EQ(ids.size(), 48u);
  const Column expected = Load("tiny_top5_ids");
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(ids[i], static_cast<int64_t>(i / 4) * 100 + static_cast<int64_t>(i % 4));
    EXPECT_EQ(top1[i], reinterpret_cast<const int32_t*>(expected.RowData(static_cast<int64_t>(i % 4)))[0]);
  }
}

}  // namespace
}  // namespace sluice
