// Host-side logic of the GPU normalize step: spec validation, sizes and shapes, the mapping
// from a PreprocessSpec, launch planning and the kernel's table. Runs without a GPU.
#include <gtest/gtest.h>

#include <limits>

#include "normalize_plan.h"
#include "sluice/cuda_device.h"
#include "sluice/cuda_preprocess.h"

namespace sluice {
namespace {

NormalizeSpec Small() {
  NormalizeSpec s;
  s.batch = 2;
  s.height = 4;
  s.width = 6;
  return s;
}

void ExpectInvalid(const NormalizeSpec& s, const std::string& needle) {
  const Status st = s.Validate();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "wanted '" << needle << "' in: " << st.message();
}

TEST(NormalizeSpecTest, ValidationNamesTheFieldAndTheValue) {
  EXPECT_TRUE(Small().Validate().ok());
  NormalizeSpec s = Small();
  s.batch = -1;
  ExpectInvalid(s, "batch must be >= 0 (got -1)");
  s = Small();
  s.height = 0;
  ExpectInvalid(s, "height and width must be > 0 (got 0x6)");
  s = Small();
  s.width = -3;
  ExpectInvalid(s, "(got 4x-3)");
  for (int c : {0, 5, -1}) {
    s = Small();
    s.channels = c;
    ExpectInvalid(s, "channels must be 1..4 (got " + std::to_string(c) + ")");
  }
  s = Small();
  s.mean = {0.5f, 0.5f};
  ExpectInvalid(s, "one value per channel (3), got 2 and 3");
  s = Small();
  s.channels = 1;
  ExpectInvalid(s, "one value per channel (1), got 3 and 3");
  s = Small();
  s.std[1] = 0;
  ExpectInvalid(s, "std[1] must be finite and > 0");
  s = Small();
  s.std[2] = -0.5f;
  ExpectInvalid(s, "std[2] must be finite and > 0");
  s = Small();
  s.std[0] = std::numeric_limits<float>::infinity();
  ExpectInvalid(s, "std[0]");
  s = Small();
  s.std[0] = std::numeric_limits<float>::quiet_NaN();
  ExpectInvalid(s, "std[0]");
  s = Small();
  s.mean[2] = std::numeric_limits<float>::quiet_NaN();
  ExpectInvalid(s, "mean[2] must be finite");
}

TEST(NormalizeSpecTest, RefusesOutOfRangeEnumsAndNonFloatDtypes) {
  NormalizeSpec s = Small();
  s.layout = static_cast<Layout>(7);
  ExpectInvalid(s, "layout must be NCHW or NHWC (got enum value 7)");
  for (DType d : {DType::kUInt8, DType::kInt32, DType::kInt64, DType::kFloat64}) {
    s = Small();
    s.dtype = d;
    ExpectInvalid(s, "dtype must be float32, float16 or bfloat16 (got " + std::string(DTypeName(d)) + ")");
  }
  s = Small();
  s.dtype = static_cast<DType>(42);
  ExpectInvalid(s, "(got enum value 42)");
  for (DType d : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    s = Small();
    s.dtype = d;
    EXPECT_TRUE(s.Validate().ok()) << DTypeName(d);
  }
}

TEST(NormalizeSpecTest, RefusesSizesTheKernelCannotIndex) {
  NormalizeSpec s = Small();
  s.channels = 1;
  s.mean = {0};
  s.std = {1};
  s.height = 65536;
  s.width = 32768;  // exactly 2^31 elements
  ExpectInvalid(s, "has 2^31 or more elements");
  s.width = 32767;
  EXPECT_TRUE(s.Validate().ok());
  s.height = std::numeric_limits<int64_t>::max() / 2;
  s.width = 4;  // the product overflows int64 before any comparison could catch it
  ExpectInvalid(s, "2^31 or more");
  s = Small();
  s.batch = std::numeric_limits<int64_t>::max() / 100;  // 2*4*6*3*4 bytes per image... times this overflows
  ExpectInvalid(s, "overflows int64");
}

TEST(NormalizeSpecTest, SizesAndShapes) {
  NormalizeSpec s = Small();  // 2 x 4 x 6 x 3
  EXPECT_EQ(s.elements(), 144);
  EXPECT_EQ(s.input_bytes(), 144);
  EXPECT_EQ(s.output_bytes(), 576);
  s.dtype = DType::kFloat16;
  EXPECT_EQ(s.output_bytes(), 288);
  s.dtype = DType::kBFloat16;
  EXPECT_EQ(s.output_bytes(), 288);
  EXPECT_EQ(s.InputShape(), (std::vector<int64_t>{2, 4, 6, 3}));
  EXPECT_EQ(s.OutputShape(), (std::vector<int64_t>{2, 3, 4, 6}));
  s.layout = Layout::kNHWC;
  EXPECT_EQ(s.OutputShape(), (std::vector<int64_t>{2, 4, 6, 3}));
  s.batch = 0;
  EXPECT_TRUE(s.Validate().ok());
  EXPECT_EQ(s.output_bytes(), 0);
}

TEST(NormalizeSpecTest, FromPreprocessSpec) {
  PreprocessSpec target = PreprocessSpec::ImageNet();
  Result<NormalizeSpec> s = NormalizeSpec::FromPreprocessSpec(target, 1000);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->OutputShape(), (std::vector<int64_t>{1000, 3, 224, 224}));
  EXPECT_EQ(s->mean, (std::vector<float>{0.485f, 0.456f, 0.406f}));
  EXPECT_EQ(s->std, (std::vector<float>{0.229f, 0.224f, 0.225f}));
  EXPECT_EQ(s->output_bytes(), 1000 * target.OutputType().fixed_row_bytes());  // the same tensor the CPU path writes

  target.crop_height = 200;
  target.crop_width = 300;
  target.layout = Layout::kNHWC;
  target.dtype = DType::kBFloat16;
  target.normalize = false;
  s = NormalizeSpec::FromPreprocessSpec(target, 8);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->height, 200);
  EXPECT_EQ(s->width, 300);
  EXPECT_EQ(s->layout, Layout::kNHWC);
  EXPECT_EQ(s->dtype, DType::kBFloat16);
  EXPECT_EQ(s->mean, (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(s->std, (std::vector<float>{1, 1, 1}));

  target.dtype = DType::kUInt8;
  EXPECT_EQ(NormalizeSpec::FromPreprocessSpec(target, 8).status().code(), StatusCode::kInvalidArgument);
  target = PreprocessSpec::ImageNet();
  target.crop_height = 0;  // invalid target: no fixed size
  target.crop_width = 0;
  EXPECT_EQ(NormalizeSpec::FromPreprocessSpec(target, 8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeSpec::FromPreprocessSpec(PreprocessSpec::ImageNet(), -2).status().code(), StatusCode::kInvalidArgument);
}

TEST(NormalizePlanTest, VectorizedVariantsNeedAlignmentAndWholeGroups) {
  using gpu::NormalizeVariant;
  NormalizeSpec s;
  s.batch = 1000;
  s.height = 224;
  s.width = 224;
  const uintptr_t aligned = 0x10000;
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).variant, NormalizeVariant::kNchwVec3);
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned + 1, aligned, 132).variant, NormalizeVariant::kNchwScalar);
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned + 4, 132).variant, NormalizeVariant::kNchwScalar);  // float32 needs 16
  s.dtype = DType::kFloat16;
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned + 8, 132).variant, NormalizeVariant::kNchwVec3);  // 4 halves: 8
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned + 4, 132).variant, NormalizeVariant::kNchwScalar);
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).element_bytes, 2);
  s.height = 223;
  s.width = 223;  // 223 * 223 pixels: not a multiple of 4, groups would straddle planes
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).variant, NormalizeVariant::kNchwScalar);
  s.height = 224;
  s.width = 224;
  s.channels = 4;
  s.mean.push_back(0.5f);
  s.std.push_back(0.5f);
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).variant, NormalizeVariant::kNchwScalar);
  s.layout = Layout::kNHWC;
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).variant, NormalizeVariant::kNhwcVec4);
  s.channels = 3;
  s.mean.pop_back();
  s.std.pop_back();
  s.height = 5;
  s.width = 7;  // 105 elements per image
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).variant, NormalizeVariant::kNhwcScalar);
  s.width = 8;  // 120
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned, aligned, 132).variant, NormalizeVariant::kNhwcVec4);
  EXPECT_EQ(gpu::PlanNormalizeLaunch(s, aligned + 2, aligned, 132).variant, NormalizeVariant::kNhwcScalar);
}

TEST(NormalizePlanTest, GridCoversEveryImageAndStaysWithinLimits) {
  NormalizeSpec s;
  s.batch = 1000;
  s.height = 224;
  s.width = 224;
  auto plan = gpu::PlanNormalizeLaunch(s, 0x1000, 0x1000, 132);
  EXPECT_EQ(plan.grid_y, 1000u);
  EXPECT_EQ(plan.grid_x, 3u);  // ceil(132 * 16 / 1000) blocks per image, each looping over a third of it
  s.batch = 1;
  plan = gpu::PlanNormalizeLaunch(s, 0x1000, 0x1000, 132);
  EXPECT_EQ(plan.grid_y, 1u);
  EXPECT_EQ(plan.grid_x, 49u);  // one image: as many blocks as it has 256-thread steps (12544 / 256)
  s.batch = 100000;  // more images than gridDim.y allows: the kernel loops
  s.height = 2;
  s.width = 2;
  plan = gpu::PlanNormalizeLaunch(s, 0x1000, 0x1000, 132);
  EXPECT_EQ(plan.grid_y, 65535u);
  EXPECT_EQ(plan.grid_x, 1u);
  plan = gpu::PlanNormalizeLaunch(s, 0x1000, 0x1000, 0);  // an unknown SM count still gives a grid
  EXPECT_GE(plan.grid_x, 1u);
}

TEST(NormalizePlanTest, KernelArgumentsCarryTheTable) {
  NormalizeSpec s = Small();
  s.dtype = DType::kBFloat16;
  std::vector<uint8_t> in(4);
  std::vector<uint8_t> out(4);
  const gpu::NormalizeKernelArgs args = gpu::MakeNormalizeKernelArgs(s, in.data(), out.data());
  EXPECT_EQ(args.input, in.data());
  EXPECT_EQ(args.output, out.data());
  EXPECT_EQ(args.batch, 2);
  EXPECT_EQ(args.pixels, 24u);
  EXPECT_EQ(args.channels, 3u);
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) ASSERT_EQ(args.table[c * 256 + v], NormalizedBits(s, c, static_cast<uint8_t>(v)));
  }
  for (int i = 3 * 256; i < 4 * 256; ++i) ASSERT_EQ(args.table[i], 0u);
  // Kernel parameters may take at most 32764 bytes (CUDA >= 12.1, Volta or newer).
  EXPECT_LE(sizeof(gpu::NormalizeKernelArgs), 32764u);
}

TEST(NormalizeLaunchTest, BadSpecsFailBeforeAnyCudaCall) {
  NormalizeSpec s = Small();
  s.channels = 9;
  EXPECT_EQ(LaunchNormalize(s, nullptr, nullptr, nullptr).code(), StatusCode::kInvalidArgument);
  s = Small();
  EXPECT_EQ(LaunchNormalize(s, nullptr, nullptr, nullptr).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> shared(1024);
  const Status overlap = LaunchNormalize(s, shared.data(), shared.data() + 16, nullptr);
  EXPECT_EQ(overlap.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(overlap.message().find("overlap"), std::string::npos) << overlap.ToString();
  s.batch = 0;
  EXPECT_TRUE(LaunchNormalize(s, nullptr, nullptr, nullptr).ok());
}

TEST(NormalizeLaunchTest, WithoutADeviceLaunchingIsAnErrorNotACrash) {
  Result<int> devices = CudaDeviceCount();
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  if (*devices > 0) GTEST_SKIP() << "this machine has a GPU (normalize_gpu_test covers it)";
  const NormalizeSpec s = Small();
  std::vector<uint8_t> in(static_cast<size_t>(s.input_bytes())), out(static_cast<size_t>(s.output_bytes()));
  const Status st = LaunchNormalize(s, in.data(), out.data(), nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cuda"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace sluice
