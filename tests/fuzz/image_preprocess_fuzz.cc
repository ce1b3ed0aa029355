// libFuzzer target: arbitrary bytes as an encoded image through decode + resize + crop +
// normalize. Anything but a clean Status is a bug. Seeded with real photographs and the
// parity test's variants (JPEG, PNG, WebP).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sluice/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  static const PreprocessSpec spec = [] {
    PreprocessSpec s = PreprocessSpec::ImageNet();
    s.max_pixels = 4'000'000;  // keep a single input within the fuzzer's memory limit
    return s;
  }();
  static Preprocessor pre(spec);
  static std::vector<uint8_t> row(static_cast<size_t>(spec.OutputType().fixed_row_bytes()));
  (void)pre.ProcessEncoded(std::string_view(reinterpret_cast<const char*>(data), size), row.data());
  return 0;
}
