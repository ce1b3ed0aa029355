// The job file: YAML -> JobSpec, with --set overrides, unknown-key checks and a fingerprint.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "sluice/byte_units.h"
#include "sluice/job.h"

namespace sluice {
namespace {

const std::map<std::string, std::set<std::string>>& KnownKeys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"input", {"uri", "format", "id_column", "image_column", "image_shape", "limit", "shard_rows"}},
      {"preprocess", {}},  // checked by PreprocessSpec::FromYaml
      {"model", {"uri", "backend", "device", "dtype", "batch_size", "replicas", "threads", "normalize"}},
      {"output", {"uri", "format", "top_k", "include", "compression", "tensor_layout", "preserve_order"}},
      {"errors", {"max_bad_rows"}},
      {"resources", {"cpus", "memory", "stall_timeout"}},
      {"workers", {"heartbeat", "stale_after", "help_others"}},
  };
  return keys;
}

/// "300", "300s", "5m", "1h", "1.5m", "0" (off) -> seconds.
Result<double> ParseDurationSeconds(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return Status::InvalidArgument("'" + text + "' is not a duration (examples: 300s, 5m, 1h, 0 for off)");
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  if (unit == "ms") scale = 0.001;
  if (unit == "m" || unit == "min") scale = 60;
  if (unit == "h") scale = 3600;
  if (scale == 0 || value < 0) {
    return Status::InvalidArgument("'" + text + "' is not a duration (examples: 300s, 5m, 1h, 0 for off)");
  }
  return value * scale;
}

/// Applies "a.b.c=value" to the tree; the value is read as YAML (5, cpu, [a, b], "x y").
Status ApplyOverride(YAML::Node& root, const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("--set '" + text + "': expected key.sub=value");
  const std::string path = text.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("--set '" + text + "': the value is not valid YAML: " + e.msg);
  }
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  // yaml-cpp nodes are handles: walk with a vector of them so assignment lands in the tree.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    }
    if (!next.IsMap()) return Status::InvalidArgument("--set '" + text + "': '" + parts[i] + "' is not a mapping");
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
  return Status::OK();
}

struct Reader {
  const std::string& source;
  template <typename T>
  Status Get(const YAML::Node& section, const std::string& sname, const char* key, T* out) {
    const YAML::Node n = section[key];
    if (!n.IsDefined() || n.IsNull()) return Status::OK();
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Status::InvalidArgument(source + ": " + sname + "." + key + " has a value of the wrong type");
    }
    return Status::OK();
  }
  /// A key written as text with a unit ("4GiB", "5m"), read by `parse`; errors name the key.
  template <typename T, typename Parse>
  Status GetParsed(const YAML::Node& section, const std::string& sname, const char* key, Parse parse, T* out) {
    std::string text;
    RETURN_IF_ERROR(Get(section, sname, key, &text));
    if (text.empty()) return Status::OK();
    auto value = parse(text);
    if (!value.ok()) return value.status().WithContext(source + ": " + sname + "." + key);
    *out = *value;
    return Status::OK();
  }
  /// An integer key that may also say `auto` (kept as 0).
  Status GetAutoInt(const YAML::Node& section, const std::string& sname, const char* key, int* out) {
    std::string text = "auto";
    RETURN_IF_ERROR(Get(section, sname, key, &text));
    return text == "auto" ? Status::OK() : Get(section, sname, key, out);
  }
};

Status CheckOneOf(const std::string& source, const std::string& key, const std::string& value, std::set<std::string> allowed) {
  if (allowed.count(value)) return Status::OK();
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
  return Status::InvalidArgument(source + ": " + key + " is '" + value + "'; expected " + list);
}

Result<JobSpec> ParseJobTree(const std::string& yaml_text, const std::vector<std::string>& overrides, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ": not valid YAML: " + e.what());
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) return Status::InvalidArgument(source + ": a job file is a mapping of sections (input, model, output, ...)");
  for (const auto& o : overrides) {
    Status st = ApplyOverride(root, o);
    if (!st.ok()) return st.WithContext(source);
  }
  // `model: none`: no model stage (the preprocessed tensors, or what an embedding program's
  // stages make of them, are the output).
  const bool model_none = root["model"].IsDefined() && root["model"].IsScalar() && root["model"].as<std::string>() == "none";
  if (model_none) root.remove("model");
  for (const auto& kv : root) {
    const std::string section = kv.first.as<std::string>();
    auto known = KnownKeys().find(section);
    if (known == KnownKeys().end()) return Status::InvalidArgument(source + ": unknown section '" + section + "'");
    if (section == "preprocess") continue;
    if (!kv.second.IsMap()) return Status::InvalidArgument(source + ": '" + section + "' must be a mapping");
    for (const auto& entry : kv.second) {
      const std::string key = entry.first.as<std::string>();
      if (!known->second.count(key)) return Status::InvalidArgument(source + ": unknown key '" + section + "." + key + "'");
    }
  }

  // Missing sections are empty ones (yaml-cpp's missing nodes throw on lookup).
  for (const auto& [section, keys] : KnownKeys()) {
    if (section != "preprocess" && (!root[section].IsDefined() || root[section].IsNull())) root[section] = YAML::Node(YAML::NodeType::Map);
  }
  JobSpec spec;
  spec.model_none = model_none;
  Reader r{source};
  const YAML::Node in = root["input"], model = root["model"], out = root["output"];
  if (in["uri"].IsDefined() && in["uri"].IsSequence()) {
    RETURN_IF_ERROR(r.Get(in, "input", "uri", &spec.input.uris));
  } else {
    std::string one;
    RETURN_IF_ERROR(r.Get(in, "input", "uri", &one));
    if (!one.empty()) spec.input.uris.push_back(one);
  }
  RETURN_IF_ERROR(r.Get(in, "input", "format", &spec.input.format));
  RETURN_IF_ERROR(r.Get(in, "input", "id_column", &spec.input.id_column));
  RETURN_IF_ERROR(r.Get(in, "input", "image_column", &spec.input.image_column));
  RETURN_IF_ERROR(r.Get(in, "input", "image_shape", &spec.input.image_shape));
  RETURN_IF_ERROR(r.Get(in, "input", "limit", &spec.input.limit));
  RETURN_IF_ERROR(r.Get(in, "input", "shard_rows", &spec.input.shard_rows));
  std::string pre = "preset: imagenet\n";
  const YAML::Node pnode = root["preprocess"];
  if (pnode.IsDefined() && pnode.IsScalar() && pnode.as<std::string>() == "none") {
    spec.preprocess_none = true;
  } else if (pnode.IsDefined() && !pnode.IsNull()) {
    YAML::Emitter e;
    e << root["preprocess"];
    pre = e.c_str();
  }
  auto prep = PreprocessSpec::FromYaml(pre);
  if (!prep.ok()) return prep.status().WithContext(source);
  spec.preprocess = *prep;
  RETURN_IF_ERROR(r.Get(model, "model", "uri", &spec.model.uri));
  RETURN_IF_ERROR(r.Get(model, "model", "backend", &spec.model.backend));
  RETURN_IF_ERROR(r.Get(model, "model", "device", &spec.model.device));
  RETURN_IF_ERROR(r.Get(model, "model", "dtype", &spec.model.dtype));
  RETURN_IF_ERROR(r.Get(model, "model", "batch_size", &spec.model.batch_size));
  RETURN_IF_ERROR(r.Get(model, "model", "normalize", &spec.model.normalize));
  RETURN_IF_ERROR(r.GetAutoInt(model, "model", "replicas", &spec.model.replicas));
  RETURN_IF_ERROR(r.GetAutoInt(model, "model", "threads", &spec.model.threads));
  RETURN_IF_ERROR(r.Get(out, "output", "uri", &spec.output.uri));
  RETURN_IF_ERROR(r.Get(out, "output", "format", &spec.output.format));
  RETURN_IF_ERROR(r.Get(out, "output", "top_k", &spec.output.top_k));
  RETURN_IF_ERROR(r.Get(out, "output", "include", &spec.output.include));
  RETURN_IF_ERROR(r.Get(out, "output", "compression", &spec.output.compression));
  RETURN_IF_ERROR(r.Get(out, "output", "tensor_layout", &spec.output.tensor_layout));
  RETURN_IF_ERROR(r.Get(out, "output", "preserve_order", &spec.output.preserve_order));
  RETURN_IF_ERROR(r.Get(root["errors"], "errors", "max_bad_rows", &spec.errors.max_bad_rows));
  const YAML::Node res = root["resources"];
  RETURN_IF_ERROR(r.GetAutoInt(res, "resources", "cpus", &spec.resources.cpus));
  RETURN_IF_ERROR(r.GetParsed(res, "resources", "memory", ParseBytes, &spec.resources.memory));
  RETURN_IF_ERROR(r.GetParsed(res, "resources", "stall_timeout", ParseDurationSeconds, &spec.resources.stall_timeout_s));
  const YAML::Node wk = root["workers"];
  RETURN_IF_ERROR(r.GetParsed(wk, "workers", "heartbeat", ParseDurationSeconds, &spec.workers.heartbeat_s));
  RETURN_IF_ERROR(r.GetParsed(wk, "workers", "stale_after", ParseDurationSeconds, &spec.workers.stale_after_s));
  RETURN_IF_ERROR(r.Get(wk, "workers", "help_others", &spec.workers.help_others));

  // Validation: everything a run needs, named by key.
  if (spec.input.uris.empty()) return Status::InvalidArgument(source + ": input.uri is required");
  RETURN_IF_ERROR(CheckOneOf(source, "input.format", spec.input.format, {"parquet", "images"}));
  if (spec.input.limit < 0) return Status::InvalidArgument(source + ": input.limit must be >= 0");
  if (spec.input.shard_rows < 1) return Status::InvalidArgument(source + ": input.shard_rows must be >= 1");
  if (!spec.input.image_shape.empty() &&
      (spec.input.image_shape.size() != 3 || spec.input.image_shape[2] != 3 || spec.input.image_shape[0] < 1 || spec.input.image_shape[1] < 1)) {
    return Status::InvalidArgument(source + ": input.image_shape must be [height, width, 3]");
  }
  if (spec.model.uri.empty() && !spec.model_none) return Status::InvalidArgument(source + ": model.uri is required");
  RETURN_IF_ERROR(CheckOneOf(source, "model.dtype", spec.model.dtype, {"auto", "float32", "float16", "bfloat16"}));
  RETURN_IF_ERROR(CheckOneOf(source, "model.normalize", spec.model.normalize, {"auto", "host", "device"}));
  if (spec.model.batch_size < 1) return Status::InvalidArgument(source + ": model.batch_size must be >= 1");
  if (spec.model.replicas < 0) return Status::InvalidArgument(source + ": model.replicas must be auto or >= 1");
  if (spec.output.uri.empty()) return Status::InvalidArgument(source + ": output.uri is required");
  RETURN_IF_ERROR(CheckOneOf(source, "output.format", spec.output.format, {"parquet", "jsonl"}));
  RETURN_IF_ERROR(CheckOneOf(source, "output.tensor_layout", spec.output.tensor_layout, {"sluice", "ray"}));
  if (spec.output.top_k < 0) return Status::InvalidArgument(source + ": output.top_k must be >= 0");
  if (spec.errors.max_bad_rows < 0) return Status::InvalidArgument(source + ": errors.max_bad_rows must be >= 0");
  if (spec.resources.cpus < 0) return Status::InvalidArgument(source + ": resources.cpus must be auto or >= 1");
  if (spec.resources.memory < (16 << 20)) return Status::InvalidArgument(source + ": resources.memory must be at least 16MiB");
  if (spec.workers.heartbeat_s < 0.1) return Status::InvalidArgument(source + ": workers.heartbeat must be at least 100ms");
  if (spec.workers.stale_after_s < 2 * spec.workers.heartbeat_s) {
    return Status::InvalidArgument(source + ": workers.stale_after must be at least twice workers.heartbeat (a live worker must not look silent)");
  }
  return spec;
}

}  // namespace

Result<JobSpec> ParseJob(const std::string& yaml_text, const std::vector<std::string>& overrides, const std::string& source) {
  try {
    return ParseJobTree(yaml_text, overrides, source);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ": " + e.what());
  }
}

Result<JobSpec> LoadJobFile(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream f(path);
  if (!f) return Status::NotFound("cannot read the job file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseJob(ss.str(), overrides, path);
}

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s;
}

}  // namespace

std::string JobSpec::Fingerprint() const {
  // What decides which rows exist and what is written for them; not resources or batch size.
  std::string f = "input.uri=";
  for (const auto& u : input.uris) f += u + ";";
  f += "\ninput.format=" + input.format + "\ninput.id_column=" + input.id_column + "\ninput.image_column=" +
       input.image_column + "\ninput.image_shape=" + ShapeText(input.image_shape) + "\ninput.limit=" + std::to_string(input.limit) + "\ninput.shard_rows=" +
       std::to_string(input.shard_rows) + "\npreprocess=" + (preprocess_none ? std::string("none") : preprocess.ToYaml()) + "\nmodel.uri=" + (model_none ? std::string("none") : model.uri) +
       "\nmodel.backend=" + model.backend + "\nmodel.dtype=" + model.dtype + "\nmodel.normalize=" + model.normalize + "\noutput.format=" + output.format +
       "\noutput.top_k=" + std::to_string(output.top_k) + "\noutput.tensor_layout=" + output.tensor_layout + "\noutput.include=";
  for (const auto& c : output.include) f += c + ";";
  if (output.preserve_order) f += "\noutput.preserve_order=true";
  if (!stages_fingerprint.empty()) f += "\nstages=" + stages_fingerprint;
  return f + "\n";
}

}  // namespace sluice
