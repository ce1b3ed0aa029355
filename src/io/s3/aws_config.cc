// S3Options::FromEnvironment: the AWS CLI's configuration rules, for the settings S3 needs.
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "sluice/s3.h"

namespace sluice {
namespace {

using Section = std::map<std::string, std::string>;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

/// An INI file as the AWS CLI reads it: [section], key = value, # and ; comments. Indented
/// lines under a key (nested service settings such as `s3 =`) are read as "key.sub".
Result<std::map<std::string, Section>> ReadIni(const std::string& path) {
  std::map<std::string, Section> out;
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

Result<int> EnvInt(const char* name, int fallback) {
  const std::string v = Env(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (*end != '\0' || n < 0 || n > 1'000'000'000) return Status::InvalidArgument(std::string(name) + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(n);
}

}  // namespace

Result<S3Options> S3Options::FromEnvironment() {
  S3Options o;
  std::string profile = Env("AWS_PROFILE");
  const bool profile_named = !profile.empty();
  if (profile.empty()) profile = "default";

  std::string creds_path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (creds_path.empty()) creds_path = Home() + "/.aws/credentials";
  std::string config_path = Env("AWS_CONFIG_FILE");
  if (config_path.empty()) config_path = Home() + "/.aws/config";
  ASSIGN_OR_RETURN(auto creds_file, ReadIni(creds_path));
  ASSIGN_OR_RETURN(auto config_file, ReadIni(config_path));
  const std::string config_section = profile == "default" ? "default" : "profile " + profile;
  if (profile_named && !creds_file.count(profile) && !config_file.count(config_section)) {
    return Status::InvalidArgument("AWS_PROFILE='" + profile + "' is not in '" + creds_path + "' or '" + config_path + "'");
  }
  Section settings = config_file[config_section];
  for (const auto& [k, v] : creds_file[profile]) settings[k] = v;  // the credentials file wins
  auto setting = [&](const char* env, const std::string& key) {
    const std::string e = env ? Env(env) : "";
    if (!e.empty()) return e;
    auto it = settings.find(key);
    return it == settings.end() ? std::string() : it->second;
  };

  // Credentials come as a set: environment keys replace the profile's entirely.
  if (!Env("AWS_ACCESS_KEY_ID").empty()) {
    o.access_key = Env("AWS_ACCESS_KEY_ID");
    o.secret_key = Env("AWS_SECRET_ACCESS_KEY");
    o.session_token = Env("AWS_SESSION_TOKEN");
  } else {
    o.access_key = setting(nullptr, "aws_access_key_id");
    o.secret_key = setting(nullptr, "aws_secret_access_key");
    o.session_token = setting(nullptr, "aws_session_token");
  }
  if (!o.access_key.empty() && o.secret_key.empty()) {
    return Status::InvalidArgument("an AWS access key id is set but no secret access key (AWS_SECRET_ACCESS_KEY or aws_secret_access_key in '" + creds_path + "')");
  }
  o.anonymous = o.access_key.empty();

  std::string region = setting("AWS_REGION", "region");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  if (!region.empty()) o.region = region;
  o.endpoint = setting("AWS_ENDPOINT_URL_S3", "s3.endpoint_url");
  if (o.endpoint.empty()) o.endpoint = setting("AWS_ENDPOINT_URL", "endpoint_url");
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();

  ASSIGN_OR_RETURN(o.max_attempts, EnvInt("SLUICE_S3_MAX_ATTEMPTS", o.max_attempts));
  ASSIGN_OR_RETURN(o.request_timeout_ms, EnvInt("SLUICE_S3_TIMEOUT_MS", o.request_timeout_ms));
  ASSIGN_OR_RETURN(o.read_ahead, EnvInt("SLUICE_S3_READ_AHEAD", o.read_ahead));
  if (o.max_attempts < 1) o.max_attempts = 1;
  if (o.read_ahead < 1) o.read_ahead = 1;
  return o;
}

}  // namespace sluice
