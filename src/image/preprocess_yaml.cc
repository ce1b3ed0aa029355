// PreprocessSpec <-> YAML (yaml-cpp stays inside this file).
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "sluice/image.h"

namespace sluice {
namespace {

Status Bad(const std::string& key, const std::string& why) {
  return Status::InvalidArgument("preprocess." + key + ": " + why);
}

/// `n` as [height, width] from an int (square), a 2-list, or none (returns false).
Result<bool> Size(const YAML::Node& n, const std::string& key, int* h, int* w) {
  if (n.IsScalar() && n.as<std::string>() == "none") return false;
  if (n.IsScalar()) {
    *h = *w = n.as<int>();
  } else if (n.IsSequence() && n.size() == 2) {
    *h = n[0].as<int>();
    *w = n[1].as<int>();
  } else {
    return Bad(key, "expected a number, [height, width] or none");
  }
  if (*h <= 0 || *w <= 0) return Bad(key, "sizes must be positive");
  return true;
}

Result<std::array<float, 3>> Triple(const YAML::Node& n, const std::string& key) {
  if (!n.IsSequence() || n.size() != 3) return Bad(key, "expected three numbers");
  return std::array<float, 3>{n[0].as<float>(), n[1].as<float>(), n[2].as<float>()};
}

Result<PreprocessSpec> Parse(const YAML::Node& root) {
  if (!root.IsMap() && !root.IsNull()) return Status::InvalidArgument("preprocess: expected a mapping of keys");
  std::string preset = "imagenet";
  if (root["preset"]) preset = root["preset"].as<std::string>();
  ASSIGN_OR_RETURN(PreprocessSpec s, PreprocessSpec::Preset(preset));
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "preset") continue;
    try {
      if (key == "resize") {
        int h = 0, w = 0;
        ASSIGN_OR_RETURN(bool any, Size(v, key, &h, &w));
        if (!any) {
          s.resize = ResizeMode::kNone;
        } else if (v.IsScalar()) {
          s.resize = ResizeMode::kShorterSide;
          s.resize_size = h;
        } else {
          s.resize = ResizeMode::kExact;
          s.resize_height = h;
          s.resize_width = w;
        }
      } else if (key == "crop") {
        int h = 0, w = 0;
        ASSIGN_OR_RETURN(bool any, Size(v, key, &h, &w));
        s.crop_height = any ? h : 0;
        s.crop_width = any ? w : 0;
      } else if (key == "interpolation") {
        const auto m = v.as<std::string>();
        if (m == "bilinear") s.interpolation = Interpolation::kBilinear;
        else if (m == "bicubic") s.interpolation = Interpolation::kBicubic;
        else if (m == "nearest") s.interpolation = Interpolation::kNearest;
        else return Bad(key, "'" + m + "' is not bilinear, bicubic or nearest");
      } else if (key == "antialias") {
        s.antialias = v.as<bool>();
      } else if (key == "normalize") {
        s.normalize = v.as<bool>();
      } else if (key == "mean") {
        ASSIGN_OR_RETURN(s.mean, Triple(v, key));
      } else if (key == "std") {
        ASSIGN_OR_RETURN(s.std, Triple(v, key));
      } else if (key == "layout") {
        const auto m = v.as<std::string>();
        if (m != "nchw" && m != "nhwc") return Bad(key, "'" + m + "' is not nchw or nhwc");
        s.layout = m == "nchw" ? Layout::kNCHW : Layout::kNHWC;
      } else if (key == "dtype") {
        auto d = ParseDType(v.as<std::string>());
        if (!d.ok()) return Bad(key, d.status().message());
        s.dtype = *d;
      } else if (key == "mode") {
        const auto m = v.as<std::string>();
        if (m != "exact" && m != "fast") return Bad(key, "'" + m + "' is not exact or fast");
        s.mode = m == "fast" ? Fidelity::kFast : Fidelity::kExact;
      } else if (key == "exif_orientation") {
        s.exif_orientation = v.as<bool>();
      } else if (key == "max_pixels") {
        s.max_pixels = v.as<int64_t>();
      } else {
        return Status::InvalidArgument("preprocess: unknown key '" + key +
                                       "' (known: preset, resize, crop, interpolation, antialias, normalize, mean, std, layout, "
                                       "dtype, mode, exif_orientation, max_pixels)");
      }
    } catch (const YAML::Exception&) {
      return Bad(key, "has a value of the wrong type");
    }
  }
  RETURN_IF_ERROR(s.Validate());
  return s;
}

}  // namespace

Result<PreprocessSpec> PreprocessSpec::FromYaml(std::string_view yaml) {
  try {
    return Parse(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("preprocess: ") + e.what());
  }
}

std::string PreprocessSpec::ToYaml() const {
  std::ostringstream o;
  auto triple = [](const std::array<float, 3>& a) {
    std::ostringstream t;
    t.precision(9);
    t << "[" << a[0] << ", " << a[1] << ", " << a[2] << "]";
    return t.str();
  };
  o << "resize: ";
  if (resize == ResizeMode::kNone) o << "none";
  else if (resize == ResizeMode::kShorterSide) o << resize_size;
  else o << "[" << resize_height << ", " << resize_width << "]";
  o << "\ncrop: ";
  if (crop_height == 0) o << "none";
  else o << "[" << crop_height << ", " << crop_width << "]";
  o << "\ninterpolation: "
    << (interpolation == Interpolation::kBilinear ? "bilinear" : interpolation == Interpolation::kBicubic ? "bicubic" : "nearest");
  o << "\nantialias: " << (antialias ? "true" : "false") << "\nnormalize: " << (normalize ? "true" : "false");
  o << "\nmean: " << triple(mean) << "\nstd: " << triple(std);
  o << "\nlayout: " << (layout == Layout::kNCHW ? "nchw" : "nhwc") << "\ndtype: " << DTypeName(dtype);
  o << "\nmode: " << (mode == Fidelity::kFast ? "fast" : "exact") << "\nexif_orientation: " << (exif_orientation ? "true" : "false");
  o << "\nmax_pixels: " << max_pixels << "\n";
  return o.str();
}

}  // namespace sluice
