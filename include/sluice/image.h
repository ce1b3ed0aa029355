#pragma once
/// Image preprocessing: decode (JPEG, PNG, WebP) or take raw uint8 HWC pixels, resize, center
/// crop, normalize and convert, written straight into a row of the destination tensor, matching
/// torchvision's PIL path (Resize, CenterCrop, ToTensor, Normalize).
///
/// The fused path never builds a full-size float image: the decoded image is resized only
/// inside the crop window (Pillow-exact), the uint8 crop is converted through per-channel lookup
/// tables into the requested layout and dtype, and all scratch buffers live in the
/// Preprocessor and are reused row after row.
///
/// Threading: a PreprocessSpec is a value. A Preprocessor is used by one thread (one per pool
/// worker, see MakePreprocessMap).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/data_type.h"
#include "sluice/plan.h"
#include "sluice/status.h"

namespace sluice {

enum class ResizeMode { kNone, kShorterSide, kExact };
enum class Interpolation { kNearest, kBilinear, kBicubic };
enum class Layout { kNCHW, kNHWC };
/// kExact matches torchvision; kFast decodes JPEGs at a reduced DCT scale first (see README for
/// its measured deviation).
enum class Fidelity { kExact, kFast };

struct PreprocessSpec {
  ResizeMode resize = ResizeMode::kShorterSide;
  int resize_size = 256;                     // shorter side, for kShorterSide
  int resize_height = 0, resize_width = 0;   // for kExact
  Interpolation interpolation = Interpolation::kBilinear;
  bool antialias = true;                     // Pillow always antialiases; false = plain interpolation
  int crop_height = 224, crop_width = 224;   // 0: no crop
  bool normalize = true;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  Layout layout = Layout::kNCHW;
  DType dtype = DType::kFloat32;             // uint8 skips ToTensor/Normalize (done later, e.g. on the GPU)
  Fidelity mode = Fidelity::kExact;
  bool exif_orientation = false;
  int64_t max_pixels = 100'000'000;

  /// Resize(256) + CenterCrop(224) + Normalize(ImageNet mean/std), NCHW float32.
  static PreprocessSpec ImageNet();
  /// "imagenet"
  static Result<PreprocessSpec> Preset(std::string_view name);
  /// The spec from YAML (the `preprocess:` mapping of a job file):
  ///   preset: imagenet          # the starting point (default imagenet); the keys below override it
  ///   resize: 256               # shorter side; or [height, width]; or none
  ///   crop: 224                 # or [height, width]; or none
  ///   interpolation: bilinear   # bilinear | bicubic | nearest
  ///   antialias: true
  ///   normalize: true
  ///   mean: [0.485, 0.456, 0.406]
  ///   std: [0.229, 0.224, 0.225]
  ///   layout: nchw              # nchw | nhwc
  ///   dtype: float32            # float32 | float16 | bfloat16 | uint8
  ///   mode: exact               # exact | fast
  ///   exif_orientation: false
  ///   max_pixels: 100000000
  /// Unknown keys and bad values are InvalidArgument errors naming the key; the result is
  /// validated.
  static Result<PreprocessSpec> FromYaml(std::string_view yaml);
  /// The spec in the same form (FromYaml(ToYaml()) gives it back).
  std::string ToYaml() const;
  /// The output must have a fixed size (a crop, or an exact resize) so rows stack in a tensor.
  Status Validate() const;
  /// [3, H, W] (NCHW) or [H, W, 3] (NHWC).
  std::vector<int64_t> RowShape() const;
  DataType OutputType() const { return DataType::Tensor(dtype, RowShape()); }
};

class Preprocessor {
 public:
  /// `spec` must be valid (Validate).
  explicit Preprocessor(const PreprocessSpec& spec);
  ~Preprocessor();
  Preprocessor(const Preprocessor&) = delete;
  Preprocessor& operator=(const Preprocessor&) = delete;

  /// Decodes `encoded` and writes one output row (OutputType().fixed_row_bytes()) to `dst`.
  /// Errors are InvalidData with the reason (corrupt, truncated, unsupported, too large).
  Status ProcessEncoded(std::string_view encoded, uint8_t* dst);
  /// The same for raw RGB uint8 pixels, rows `stride` bytes apart.
  Status ProcessRaw(const uint8_t* pixels, int height, int width, int64_t stride, uint8_t* dst);
  /// The uint8 HWC crop of the last Process call (before ToTensor/Normalize): what parity
  /// tests compare with torchvision.
  const std::vector<uint8_t>& last_crop() const;
  /// Exact mode, JPEG: decode only the rows and the iMCU columns the resize-then-crop reads
  /// (default on; the output is the same bit for bit; off for comparisons and benchmarks).
  void set_partial_decode(bool on);
  /// Seconds spent in each step since timing was turned on (benchmarks: bench/preprocess_bench
  /// --breakdown). The resize computes only the crop's window, so it includes the crop.
  struct StepTimes {
    double decode_s = 0, resize_crop_s = 0, normalize_s = 0;
  };
  void set_step_timing(bool on);
  StepTimes step_times() const;
  /// The last step alone: a uint8 HWC crop of the output's size (what a spec with dtype uint8
  /// and layout nhwc produces, e.g. on a feeder) to this spec's output, as Process would.
  void ConvertCrop(const uint8_t* crop_hwc, uint8_t* dst) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A map stage for the executor. It reads `image_column`: binary (encoded images) or a uint8
/// tensor column [H, W, 3]. It writes the tensor column `output_column` and keeps the batch's
/// other columns except the input images. A row that fails is reported as a bad row, named by
/// `id_column` (the row number when empty), and left out.
MapFn MakePreprocessMap(PreprocessSpec spec, std::string image_column, std::string id_column, std::string output_column);

/// The uint8 crops in `column` (uint8 [H, W, 3], the output of `spec` with dtype uint8 and
/// layout nhwc) converted to `spec`'s output in place of the column: bit for bit what
/// MakePreprocessMap(spec) gives for the same images.
MapFn MakeCropConversionMap(PreprocessSpec spec, std::string column);

}  // namespace sluice
