// model.dtype auto (infer/auto_dtype.h) with the real torch backend: what it loads, what the
// trial writes, what it chooses and says.
#include <gtest/gtest.h>

#include <cstring>

#include "infer/auto_dtype.h"
#include "sluice/npy.h"

namespace sluice {
namespace {

const std::string kModels = SLUICE_MODELS_DIR;

ModelOptions Options(const std::string& file, int top_k = 5) {
  ModelOptions o;
  o.uri = kModels + "/" + file;
  o.top_k = top_k;
  o.intra_op_threads = 2;
  return o;
}

/// The output of `file` loaded in `dtype` on `input`.
Batch RunIn(const std::string& file, DType dtype, const Column& input) {
  ModelOptions o = Options(file);
  o.dtype = dtype;
  o.channels_last = dtype == DType::kBFloat16;
  return GetBackend("torch").value()->Load(o).value()->Run(input).value();
}

bool SameBytes(const Batch& a, const Batch& b) {
  for (int c = 0; c < a.num_columns(); ++c) {
    const Column &x = a.column(c), &y = b.column(c);
    if (x.ByteSize() != y.ByteSize() || std::memcmp(x.RowData(0), y.RowData(0), static_cast<size_t>(x.ByteSize())) != 0) return false;
  }
  return true;
}

TEST(AutoDTypeTest, TopOneDisagreementsReadsTensorsAndLists) {
  const Column input = ReadNpy(kModels + "/tiny_input.npy").value();
  ModelOptions o = Options("tiny.pt", 3);
  auto model = GetBackend("torch").value()->Load(o).value();
  const Batch tensors = model->Run(input).value();
  o.lists = true;
  const Batch lists = GetBackend("torch").value()->Load(o).value()->Run(input).value();
  EXPECT_EQ(TopOneDisagreements(tensors, lists).value(), 0);
  // Rows 0 and 1 swapped: they differ where their top-1 ids do.
  const int32_t* ids = reinterpret_cast<const int32_t*>(tensors.column(0).RowData(0));
  std::vector<int32_t> swapped(ids, ids + 4 * 3);
  std::swap_ranges(swapped.begin(), swapped.begin() + 3, swapped.begin() + 3);
  Column c = Column::Allocate(tensors.column(0).type(), 4).value();
  std::memcpy(c.MutableRowData(0), swapped.data(), swapped.size() * 4);
  const Batch other = Batch::Make({"top_k_ids"}, {c}).value();
  EXPECT_EQ(TopOneDisagreements(tensors, other).value(), ids[0] == ids[3] ? 0 : 2);
  EXPECT_FALSE(TopOneDisagreements(tensors, Batch::Make({"output"}, {c}).value()).ok());
}

TEST(AutoDTypeTest, RawOutputsStayFloat32) {
  auto record = std::make_shared<AutoDType>();
  const Column input = ReadNpy(kModels + "/tiny_input.npy").value();
  auto models = LoadAutoDTypeModels("torch", Options("tiny.pt", 0), {"cpu"}, input.type(), 1, {}, record).value();
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(record->dtype(), DType::kFloat32);
  EXPECT_EQ(record->why(), "auto: raw outputs (top_k 0) have no top-1 to check bfloat16 against");
  EXPECT_TRUE(models[0]->Run(input).ok());
}

TEST(AutoDTypeTest, SlowerBFloat16StaysFloat32) {
  if (!CpuHasNativeBFloat16()) GTEST_SKIP() << "this CPU has no bfloat16 instructions";
  auto record = std::make_shared<AutoDType>();
  const Column input = ReadNpy(kModels + "/tiny_input.npy").value();
  AutoDTypeOptions ao;
  ao.min_speedup = 1e9;
  auto models = LoadAutoDTypeModels("torch", Options("tiny.pt"), {"cpu"}, input.type(), 1, ao, record).value();
  EXPECT_EQ(record->dtype(), DType::kFloat32);
  EXPECT_NE(record->why().find("x float32 at load (32 rows: "), std::string::npos) << record->why();
  EXPECT_NE(record->why().find(", below 1000000000.00x"), std::string::npos) << record->why();
  EXPECT_TRUE(SameBytes(models[0]->Run(input).value(), RunIn("tiny.pt", DType::kFloat32, input)));
}

TEST(AutoDTypeTest, TrialWritesFloat32ThenKeepsWhatAgrees) {
  const Column input = ReadNpy(kModels + "/tiny_input.npy").value();  // 4 rows
  auto record = std::make_shared<AutoDType>();
  AutoDTypeOptions ao;
  ao.min_speedup = 0;  // always tried
  ao.trial_rows = 8;   // two calls
  auto models = LoadAutoDTypeModels("torch", Options("tiny.pt"), {"cpu", "cpu"}, input.type(), 1, ao, record).value();
  ASSERT_EQ(models.size(), 2u);
  if (!CpuHasNativeBFloat16()) {
    EXPECT_EQ(record->why(), "auto: this CPU has no bfloat16 instructions (AVX512-BF16 or AMX)");
    return;
  }
  const Batch f32 = RunIn("tiny.pt", DType::kFloat32, input);
  const Batch bf16 = RunIn("tiny.pt", DType::kBFloat16, input);
  EXPECT_NE(record->why().find("the job ended within its 8-row trial"), std::string::npos) << record->why();
  // The trial's rows (two replicas sharing it) are float32's.
  EXPECT_TRUE(SameBytes(models[0]->Run(input).value(), f32));
  EXPECT_TRUE(SameBytes(models[1]->Run(input).value(), f32));
  const int64_t differ = TopOneDisagreements(f32, bf16).value();
  EXPECT_EQ(record->dtype(), differ == 0 ? DType::kBFloat16 : DType::kFloat32) << record->why();
  // All 8 rows agreed; or the first call's differences (more than 1 % of 8) ended the trial.
  const std::string agreed = differ == 0 ? "on 8 of the first 8 rows" : "on only " + std::to_string(4 - differ) + " of the first 4 rows";
  EXPECT_NE(record->why().find("equals float32's " + agreed), std::string::npos) << record->why();
  // Then each replica runs the chosen copy.
  for (const auto& m : models) EXPECT_TRUE(SameBytes(m->Run(input).value(), differ == 0 ? bf16 : f32));
}

TEST(AutoDTypeTest, TooManyDifferencesEndTheTrialEarly) {
  if (!CpuHasNativeBFloat16()) GTEST_SKIP() << "this CPU has no bfloat16 instructions";
  // A 1,000-row trial that allows no difference (max_disagreement 0) ends with the first call
  // in which one differs (random resnet18 weights: bfloat16's top-1 differs on ~5 % of rows).
  const Column input = ReadNpy(kModels + "/resnet18_input.npy").value();
  const int64_t differ = TopOneDisagreements(RunIn("resnet18.pt", DType::kFloat32, input), RunIn("resnet18.pt", DType::kBFloat16, input)).value();
  AutoDTypeOptions ao;
  ao.min_speedup = 0;
  ao.trial_rows = 1000;
  ao.max_disagreement = 0;
  auto record = std::make_shared<AutoDType>();
  auto models = LoadAutoDTypeModels("torch", Options("resnet18.pt"), {"cpu"}, input.type(), 1, ao, record).value();
  ASSERT_TRUE(models[0]->Run(input).ok());
  if (differ == 0) {
    EXPECT_NE(record->why().find("the job ended within its 1000-row trial"), std::string::npos) << record->why();
  } else {
    EXPECT_EQ(record->dtype(), DType::kFloat32);
    EXPECT_NE(record->why().find("on only " + std::to_string(2 - differ) + " of the first 2 rows"), std::string::npos) << record->why();
  }
}

TEST(AutoDTypeTest, BFloat16ThatFailsKeepsFloat32) {
  if (!CpuHasNativeBFloat16()) GTEST_SKIP() << "this CPU has no bfloat16 instructions";
  AutoDTypeOptions ao;
  ao.min_speedup = 0;
  ao.trial_rows = 6;
  const DataType type = DataType::Tensor(DType::kFloat32, {3, 4, 4});
  Column rows = Column::Allocate(type, 3).value();
  std::memset(rows.MutableRowData(0), 0, static_cast<size_t>(rows.ByteSize()));
  // Fails on the job's rows (3 of them): the trial gives float32's output and keeps float32.
  auto record = std::make_shared<AutoDType>();
  auto models = LoadAutoDTypeModels("torch", Options("bf16_fails_on_3_rows.pt"), {"cpu"}, type, 1, ao, record).value();
  const Batch out = models[0]->Run(rows).value();
  EXPECT_EQ(out.num_rows(), 3);
  EXPECT_EQ(record->dtype(), DType::kFloat32);
  EXPECT_NE(record->why().find("but failed on the job's rows"), std::string::npos) << record->why();
  EXPECT_NE(record->why().find("no bfloat16 batches of 3 rows"), std::string::npos) << record->why();
  EXPECT_TRUE(models[0]->Run(rows).ok());
  // Fails at load (calibration runs 3 rows): float32 from the start.
  ao.calibration_rows = 3;
  record = std::make_shared<AutoDType>();
  models = LoadAutoDTypeModels("torch", Options("bf16_fails_on_3_rows.pt"), {"cpu"}, type, 1, ao, record).value();
  EXPECT_EQ(record->dtype(), DType::kFloat32);
  EXPECT_NE(record->why().find("auto: bfloat16 failed at load ("), std::string::npos) << record->why();
  EXPECT_TRUE(models[0]->Run(rows).ok());
}

}  // namespace
}  // namespace sluice
