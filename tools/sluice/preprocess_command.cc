#include "preprocess_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "arg_parser.h"
#include "sluice/image.h"
#include "sluice/npy.h"

namespace sluice::cli {
namespace {

bool ParseFloats(const std::string& s, std::array<float, 3>* out) {
  std::stringstream ss(s);
  std::string part;
  int i = 0;
  while (std::getline(ss, part, ',')) {
    if (i >= 3) return false;
    try {
      (*out)[static_cast<size_t>(i++)] = std::stof(part);
    } catch (...) {
      return false;
    }
  }
  return i == 3;
}

/// "224" or "224x256" (height x width).
bool ParseSize(const std::string& s, int* h, int* w) {
  const auto x = s.find('x');
  try {
    if (x == std::string::npos) {
      *h = *w = std::stoi(s);
    } else {
      *h = std::stoi(s.substr(0, x));
      *w = std::stoi(s.substr(x + 1));
    }
  } catch (...) {
    return false;
  }
  return *h > 0 && *w > 0;
}

}  // namespace

int RunPreprocess(const std::vector<std::string>& all_args) {
  std::vector<std::string> args;
  std::string input;
  for (size_t i = 0; i < all_args.size(); ++i) {
    if (all_args[i].rfind("--", 0) != 0 && input.empty()) {
      input = all_args[i];
    } else {
      args.push_back(all_args[i]);
    }
  }
  ArgParser p("sluice preprocess IMAGE", "Writes the tensor a model would see for IMAGE (batch of one) as a NumPy .npy file.");
  std::string out, preset = "imagenet", resize, crop, interpolation, mean, std_, layout, dtype, mode, normalize, antialias, exif;
  p.String("--out", &out, "output .npy file (required)");
  p.String("--preset", &preset, "starting spec: imagenet");
  p.String("--resize", &resize, "shorter side N, or HxW for an exact size, or none");
  p.String("--crop", &crop, "center crop N or HxW, or none");
  p.String("--interpolation", &interpolation, "bilinear | nearest | bicubic");
  p.String("--antialias", &antialias, "true | false");
  p.String("--mean", &mean, "three comma-separated values");
  p.String("--std", &std_, "three comma-separated values");
  p.String("--normalize", &normalize, "true | false");
  p.String("--layout", &layout, "nchw | nhwc");
  p.String("--dtype", &dtype, "float32 | float16 | uint8 (bfloat16 has no NumPy type)");
  p.String("--mode", &mode, "exact | fast");
  p.String("--exif-orientation", &exif, "true | false");
  if (!p.Parse(args)) return p.exit_code();
  if (input.empty() || out.empty()) return p.Fail("needs IMAGE and --out");
  auto spec_or = PreprocessSpec::Preset(preset);
  if (!spec_or.ok()) return p.Fail(spec_or.status().message());
  PreprocessSpec spec = *spec_or;
  if (resize == "none") {
    spec.resize = ResizeMode::kNone;
  } else if (!resize.empty()) {
    int h, w;
    if (!ParseSize(resize, &h, &w)) return p.Fail("bad --resize '" + resize + "'");
    if (resize.find('x') == std::string::npos) {
      spec.resize = ResizeMode::kShorterSide;
      spec.resize_size = h;
    } else {
      spec.resize = ResizeMode::kExact;
      spec.resize_height = h;
      spec.resize_width = w;
    }
  }
  if (crop == "none") {
    spec.crop_height = spec.crop_width = 0;
  } else if (!crop.empty() && !ParseSize(crop, &spec.crop_height, &spec.crop_width)) {
    return p.Fail("bad --crop '" + crop + "'");
  }
  if (!interpolation.empty()) {
    if (interpolation == "bilinear") spec.interpolation = Interpolation::kBilinear;
    else if (interpolation == "nearest") spec.interpolation = Interpolation::kNearest;
    else if (interpolation == "bicubic") spec.interpolation = Interpolation::kBicubic;
    else return p.Fail("bad --interpolation '" + interpolation + "'");
  }
  if (!antialias.empty()) spec.antialias = antialias == "true";
  if (!normalize.empty()) spec.normalize = normalize == "true";
  if (!exif.empty()) spec.exif_orientation = exif == "true";
  if (!mean.empty() && !ParseFloats(mean, &spec.mean)) return p.Fail("bad --mean '" + mean + "'");
  if (!std_.empty() && !ParseFloats(std_, &spec.std)) return p.Fail("bad --std '" + std_ + "'");
  if (!layout.empty()) {
    if (layout != "nchw" && layout != "nhwc") return p.Fail("bad --layout '" + layout + "'");
    spec.layout = layout == "nchw" ? Layout::kNCHW : Layout::kNHWC;
  }
  if (!dtype.empty()) {
    auto d = ParseDType(dtype);
    if (!d.ok()) return p.Fail(d.status().message());
    spec.dtype = *d;
  }
  if (!mode.empty()) {
    if (mode != "exact" && mode != "fast") return p.Fail("bad --mode '" + mode + "'");
    spec.mode = mode == "fast" ? Fidelity::kFast : Fidelity::kExact;
  }
  Status valid = spec.Validate();
  if (!valid.ok()) return p.Fail(valid.message());
  std::ifstream f(input, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "sluice preprocess: cannot open '%s'\n", input.c_str());
    return 1;
  }
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<uint8_t> row(static_cast<size_t>(spec.OutputType().fixed_row_bytes()));
  Preprocessor pre(spec);
  Status st = pre.ProcessEncoded(bytes, row.data());
  if (!st.ok()) {
    std::fprintf(stderr, "sluice preprocess: '%s': %s\n", input.c_str(), st.ToString().c_str());
    return 1;
  }
  std::vector<int64_t> shape{1};
  for (int64_t d : spec.RowShape()) shape.push_back(d);
  st = WriteNpy(out, spec.dtype, shape, row.data());
  if (!st.ok()) {
    std::fprintf(stderr, "sluice preprocess: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
