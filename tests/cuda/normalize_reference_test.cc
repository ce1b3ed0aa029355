// The CPU reference of the GPU normalize kernel against a straightforward computation: the
// float32 formula written out per element, float16/bfloat16 rounding by an independent
// round-to-nearest-even in double precision, both layouts indexed as 4-D arrays. Also: the
// reference equals the CPU Preprocessor's own output, so GPU and CPU preprocessing agree.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "sluice/cuda_preprocess.h"
#include "sluice/float16.h"

namespace sluice {
namespace {

/// Rounds `f` to the nearest value with `mantissa_bits` explicit bits, exponent >= `min_exp`
/// (subnormals below), ties to even, overflow to infinity: the definition of IEEE conversion,
/// computed on doubles (exact here: a float has 24 significant bits, scaling by 2^k is exact).
double RoundToNearestEven(float f, int mantissa_bits, int min_exp, double max_finite) {
  if (f == 0 || !std::isfinite(f)) return f;
  int e2 = 0;
  std::frexp(std::fabs(static_cast<double>(f)), &e2);  // |f| = m * 2^e2, m in [0.5, 1)
  const int exponent = std::max(e2 - 1, min_exp);
  const double ulp = std::ldexp(1.0, exponent - mantissa_bits);
  const double q = std::fabs(static_cast<double>(f)) / ulp;
  const double r = std::nearbyint(q) * ulp;  // default rounding mode: to nearest, ties to even
  return std::copysign(r > max_finite ? INFINITY : r, static_cast<double>(f));
}
double OracleHalf(float f) { return RoundToNearestEven(f, 10, -14, 65504.0); }
double OracleBFloat16(float f) { return RoundToNearestEven(f, 7, -126, std::ldexp(2.0 - std::ldexp(1.0, -7), 127)); }
float BFloat16ToFloat(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

/// What one output element must be, as a double, computed without NormalizedBits.
double Expected(uint8_t v, float mean, float std, DType dtype) {
  const float x = static_cast<float>(v) / 255.0f;  // ToTensor, in float32
  const float y = (x - mean) / std;                // Normalize, in float32
  if (dtype == DType::kFloat16) return OracleHalf(y);
  if (dtype == DType::kBFloat16) return OracleBFloat16(y);
  return y;
}

double ElementAt(const std::vector<uint8_t>& out, int64_t index, DType dtype) {
  if (dtype == DType::kFloat32) {
    float f;
    std::memcpy(&f, out.data() + index * 4, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, out.data() + index * 2, 2);
  return dtype == DType::kFloat16 ? HalfToFloat(h) : BFloat16ToFloat(h);
}

std::vector<uint8_t> RandomBytes(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& b : v) b = static_cast<uint8_t>(rng() & 0xff);
  return v;
}

/// Checks every element of the reference's output against Expected, addressing the output as
/// out[n][c][h][w] (NCHW) or out[n][h][w][c] (NHWC).
void CheckAgainstStraightforward(const NormalizeSpec& spec, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(static_cast<size_t>(spec.output_bytes()), 0xa5);
  ASSERT_TRUE(NormalizeReference(spec, in.data(), out.data()).ok());
  const int64_t N = spec.batch, H = spec.height, W = spec.width, C = spec.channels;
  int64_t mismatches = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        for (int64_t c = 0; c < C; ++c) {
          const uint8_t v = in[static_cast<size_t>(((n * H + h) * W + w) * C + c)];
          const int64_t o = spec.layout == Layout::kNCHW ? ((n * C + c) * H + h) * W + w : ((n * H + h) * W + w) * C + c;
          const double want = Expected(v, spec.mean[static_cast<size_t>(c)], spec.std[static_cast<size_t>(c)], spec.dtype);
          const double got = ElementAt(out, o, spec.dtype);
          if (got != want || std::signbit(got) != std::signbit(want)) {
            if (++mismatches <= 5) ADD_FAILURE() << "n=" << n << " h=" << h << " w=" << w << " c=" << c << " v=" << int(v) << " got " << got << " want " << want;
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << DTypeName(spec.dtype) << (spec.layout == Layout::kNCHW ? " NCHW" : " NHWC");
}

TEST(RoundingOracleTest, TiesGoToEvenAndAgreeWithTheConversions) {
  // float16: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 (odd mantissa): down to 1.
  // 1 + 3 * 2^-11 lies between 1 + 2^-10 (odd) and 1 + 2^-9 (even): up.
  const float h_down = 1.0f + std::ldexp(1.0f, -11), h_up = 1.0f + 3 * std::ldexp(1.0f, -11);
  EXPECT_EQ(OracleHalf(h_down), 1.0);
  EXPECT_EQ(OracleHalf(h_up), 1.0 + std::ldexp(1.0, -9));
  EXPECT_EQ(OracleHalf(-h_up), -(1.0 + std::ldexp(1.0, -9)));
  EXPECT_EQ(HalfToFloat(FloatToHalf(h_down)), 1.0f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(h_up)), 1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(OracleHalf(65519.0f), 65504.0);      // below the midpoint to 2^16
  EXPECT_TRUE(std::isinf(OracleHalf(65520.0f)));  // the midpoint: to even, which is 2^16 = inf
  EXPECT_EQ(OracleHalf(std::ldexp(1.0f, -25)), 0.0);                       // half the smallest subnormal: to even (0)
  EXPECT_EQ(OracleHalf(3 * std::ldexp(1.0f, -25)), std::ldexp(1.0, -23));  // 1.5 subnormal ulps: to 2
  // bfloat16: 8 significant bits.
  const float b_down = 1.0f + std::ldexp(1.0f, -8), b_up = 1.0f + 3 * std::ldexp(1.0f, -8);
  EXPECT_EQ(OracleBFloat16(b_down), 1.0);
  EXPECT_EQ(OracleBFloat16(b_up), 1.0 + std::ldexp(1.0, -6));
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(b_down)), 1.0f);
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(b_up)), 1.0f + std::ldexp(1.0f, -6));
  // The production conversions agree with the oracle over a wide random sample, subnormals,
  // overflow and ties included (random bit patterns hit every exponent).
  std::mt19937 rng(7);
  int64_t checked = 0;
  for (int i = 0; i < 400000; ++i) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (!std::isfinite(f)) continue;
    ++checked;
    ASSERT_EQ(static_cast<double>(HalfToFloat(FloatToHalf(f))), OracleHalf(f)) << std::hexfloat << f;
    ASSERT_EQ(static_cast<double>(BFloat16ToFloat(FloatToBFloat16(f))), OracleBFloat16(f)) << std::hexfloat << f;
  }
  EXPECT_GT(checked, 390000);
}

TEST(NormalizeReferenceTest, MatchesTheStraightforwardComputationForEveryDtypeAndLayout) {
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
      NormalizeSpec spec;
      spec.batch = 3;
      spec.height = 5;
      spec.width = 7;
      spec.dtype = dtype;
      spec.layout = layout;
      CheckAgainstStraightforward(spec, RandomBytes(spec.input_bytes(), 1));
    }
  }
}

TEST(NormalizeReferenceTest, EveryValueOfEveryChannelWithUnusualMeansAndStds) {
  // 16x16 pixels whose channels hold every byte value (shifted per channel).
  for (int channels : {1, 2, 3, 4}) {
    NormalizeSpec spec;
    spec.batch = 2;
    spec.height = 16;
    spec.width = 16;
    spec.channels = channels;
    spec.mean.clear();
    spec.std.clear();
    std::mt19937 rng(static_cast<uint32_t>(channels));
    std::uniform_real_distribution<float> mean(-2.0f, 2.0f), std(1e-3f, 4.0f);
    for (int c = 0; c < channels; ++c) {
      spec.mean.push_back(mean(rng));
      spec.std.push_back(std(rng));
    }
    std::vector<uint8_t> in(static_cast<size_t>(spec.input_bytes()));
    for (size_t i = 0; i < in.size(); ++i) {
      const size_t pixel = i / static_cast<size_t>(channels) % 256, c = i % static_cast<size_t>(channels);
      in[i] = static_cast<uint8_t>(pixel * 7 + c * 31);  // 7 is odd: a permutation of 0..255 per channel
    }
    for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
      for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
        spec.dtype = dtype;
        spec.layout = layout;
        CheckAgainstStraightforward(spec, in);
      }
    }
  }
}

TEST(NormalizeReferenceTest, Float32IsWithinRoundingOfExactArithmetic) {
  const NormalizeSpec spec;  // ImageNet mean and std
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const float got = std::bit_cast<float>(NormalizedBits(spec, c, static_cast<uint8_t>(v)));
      const double exact = (v / 255.0 - static_cast<double>(spec.mean[c])) / static_cast<double>(spec.std[c]);
      EXPECT_NEAR(got, exact, 2e-6 * std::max(1.0, std::fabs(exact))) << "c=" << c << " v=" << v;
    }
  }
  // The ImageNet range: 0 -> about -2.1, 255 -> about 2.64.
  EXPECT_NEAR(std::bit_cast<float>(NormalizedBits(spec, 0, 0)), -0.485 / 0.229, 1e-5);
  EXPECT_NEAR(std::bit_cast<float>(NormalizedBits(spec, 2, 255)), (1 - 0.406) / 0.225, 1e-5);
}

TEST(NormalizeReferenceTest, EqualsTheCpuPreprocessorBitForBit) {
  // GPU preprocessing = CPU decode/resize/crop to uint8 NHWC + this normalization; it must give
  // the same tensor as the CPU Preprocessor writing floats itself.
  const int height = 300, width = 260;
  const std::vector<uint8_t> pixels = RandomBytes(int64_t{height} * width * 3, 11);
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
      PreprocessSpec target = PreprocessSpec::ImageNet();
      target.dtype = dtype;
      target.layout = layout;
      Preprocessor cpu(target);
      std::vector<uint8_t> cpu_out(static_cast<size_t>(target.OutputType().fixed_row_bytes()));
      ASSERT_TRUE(cpu.ProcessRaw(pixels.data(), height, width, width * 3, cpu_out.data()).ok());
      PreprocessSpec crop_only = target;
      crop_only.dtype = DType::kUInt8;
      crop_only.layout = Layout::kNHWC;
      Preprocessor host_half(crop_only);
      std::vector<uint8_t> crop(static_cast<size_t>(crop_only.OutputType().fixed_row_bytes()));
      ASSERT_TRUE(host_half.ProcessRaw(pixels.data(), height, width, width * 3, crop.data()).ok());
      Result<NormalizeSpec> spec = NormalizeSpec::FromPreprocessSpec(target, 1);
      ASSERT_TRUE(spec.ok()) << spec.status().ToString();
      std::vector<uint8_t> out(static_cast<size_t>(spec->output_bytes()));
      ASSERT_TRUE(NormalizeReference(*spec, crop.data(), out.data()).ok());
      EXPECT_EQ(out, cpu_out) << DTypeName(dtype) << (layout == Layout::kNCHW ? " NCHW" : " NHWC");
    }
  }
}

TEST(NormalizeReferenceTest, RefusesBadArguments) {
  NormalizeSpec spec;
  spec.batch = 1;
  spec.height = 2;
  spec.width = 2;
  std::vector<uint8_t> in(12), out(48);
  EXPECT_EQ(NormalizeReference(spec, nullptr, out.data()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeReference(spec, in.data(), nullptr).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> shared(64);
  Status overlap = NormalizeReference(spec, shared.data() + 8, shared.data());
  EXPECT_EQ(overlap.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(overlap.message().find("overlap"), std::string::npos) << overlap.ToString();
  spec.channels = 0;
  EXPECT_EQ(NormalizeReference(spec, in.data(), out.data()).code(), StatusCode::kInvalidArgument);
  spec.channels = 3;
  spec.batch = 0;  // an empty batch touches nothing
  EXPECT_TRUE(NormalizeReference(spec, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace sluice
