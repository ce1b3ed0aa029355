#include "preprocess_command.h"

#include <cstdio>
#include <fstream>

#include "arg_parser.h"
#include "sluice/image.h"
#include "sluice/npy.h"

namespace sluice::cli {
namespace {

/// A flag's value as a YAML value: "300x400" and "a,b,c" become flow lists.
std::string YamlValue(const std::string& flag, std::string v) {
  if ((flag == "resize" || flag == "crop") && v.find('x') != std::string::npos) v.replace(v.find('x'), 1, ", ");
  else if (flag != "mean" && flag != "std") return v;
  return "[" + v + "]";
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
  // The flags are the job file's preprocess mapping: one parser (and one set of errors) for both.
  std::string yaml = "preset: " + preset + "\n";
  const std::pair<const char*, const std::string*> flags[] = {
      {"resize", &resize}, {"crop", &crop}, {"interpolation", &interpolation}, {"antialias", &antialias},
      {"mean", &mean},     {"std", &std_},  {"normalize", &normalize},         {"layout", &layout},
      {"dtype", &dtype},   {"mode", &mode}, {"exif_orientation", &exif}};
  for (const auto& [key, value] : flags) {
    if (!value->empty()) yaml += std::string(key) + ": " + YamlValue(key, *value) + "\n";
  }
  auto spec_or = PreprocessSpec::FromYaml(yaml);
  if (!spec_or.ok()) return p.Fail(spec_or.status().message());
  const PreprocessSpec spec = *spec_or;
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
