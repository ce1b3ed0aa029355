#include "io/s3/aws_profile.h"

#include <cstdlib>
#include <fstream>

namespace sluice::s3 {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

/// An INI file as the AWS CLI reads it: [section], key = value, # and ; comments. Indented
/// lines under a key (nested service settings such as `s3 =`) are read as "key.sub".
Result<std::map<std::string, IniSection>> ReadIni(const std::string& path) {
  std::map<std::string, IniSection> out;
  std::ifstream in(path);
  if (!in) return out;  // a missing file is no configuration, not an error
  std::string line, section, parent;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    const std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') return Status::InvalidArgument("'" + path + "' line " + std::to_string(number) + ": bad section header");
      section = Trim(t.substr(1, t.size() - 2));
      parent.clear();
      continue;
    }
    const size_t eq = t.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("'" + path + "' line " + std::to_string(number) + ": expected key = value");
    const std::string key = Trim(t.substr(0, eq)), value = Trim(t.substr(eq + 1));
    if (indented && !parent.empty()) {
      out[section][parent + "." + key] = value;
    } else {
      out[section][key] = value;
      parent = value.empty() ? key : "";
    }
  }
  return out;
}

std::string Home() {
  const std::string h = Env("HOME");
  return h.empty() ? "/root" : h;
}

}  // namespace

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Setting(const IniSection& section, const std::string& key) {
  auto it = section.find(key);
  return it == section.end() ? std::string() : it->second;
}

std::string ProfileName() {
  const std::string p = Env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

IniSection AwsFiles::Profile(const std::string& name, bool* found) const {
  IniSection s;
  bool any = false;
  const std::string config_section = name == "default" ? "default" : "profile " + name;
  if (auto it = config.find(config_section); it != config.end()) {
    s = it->second;
    any = true;
  }
  if (auto it = credentials.find(name); it != credentials.end()) {
    for (const auto& [k, v] : it->second) s[k] = v;  // the credentials file wins
    any = true;
  }
  if (found != nullptr) *found = any;
  return s;
}

Result<AwsFiles> ReadAwsFiles() {
  AwsFiles f;
  f.credentials_path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (f.credentials_path.empty()) f.credentials_path = Home() + "/.aws/credentials";
  f.config_path = Env("AWS_CONFIG_FILE");
  if (f.config_path.empty()) f.config_path = Home() + "/.aws/config";
  ASSIGN_OR_RETURN(f.credentials, ReadIni(f.credentials_path));
  ASSIGN_OR_RETURN(f.config, ReadIni(f.config_path));
  return f;
}

}  // namespace sluice::s3
