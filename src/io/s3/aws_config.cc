// S3Options::FromEnvironment: the AWS CLI's configuration rules, for the settings S3 needs.
#include <cstdlib>
#include <string>

#include "io/s3/aws_profile.h"
#include "sluice/aws_credentials.h"
#include "sluice/s3.h"

namespace sluice {
namespace {

using s3::Env;

Result<int> EnvInt(const char* name, int fallback) {
  const std::string v = Env(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (*end != '\0' || n < 0 || n > 1'000'000'000) return Status::InvalidArgument(std::string(name) + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(n);
}

bool IsTrue(const std::string& v) { return v == "true" || v == "TRUE" || v == "True" || v == "1"; }

}  // namespace

Result<S3Options> S3Options::FromEnvironment() {
  S3Options o;
  ASSIGN_OR_RETURN(s3::AwsFiles files, s3::ReadAwsFiles());
  const std::string profile = s3::ProfileName();
  bool found = false;
  const s3::IniSection settings = files.Profile(profile, &found);
  if (!Env("AWS_PROFILE").empty() && !found) {
    return Status::InvalidArgument("AWS_PROFILE='" + profile + "' is not in '" + files.credentials_path + "' or '" + files.config_path + "'");
  }
  auto setting = [&](const char* env, const std::string& key) {
    const std::string e = env ? Env(env) : "";
    return e.empty() ? s3::Setting(settings, key) : e;
  };

  // Long-term keys known without contacting anything (environment keys replace the profile's
  // entirely); every other source is the credential chain's, resolved on the first request.
  if (!Env("AWS_ACCESS_KEY_ID").empty()) {
    o.access_key = Env("AWS_ACCESS_KEY_ID");
    o.secret_key = Env("AWS_SECRET_ACCESS_KEY");
    o.session_token = Env("AWS_SESSION_TOKEN");
    if (o.secret_key.empty()) {
      return Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but no secret access key (AWS_SECRET_ACCESS_KEY)");
    }
  } else if (s3::Setting(settings, "role_arn").empty()) {
    o.access_key = s3::Setting(settings, "aws_access_key_id");
    o.secret_key = s3::Setting(settings, "aws_secret_access_key");
    o.session_token = s3::Setting(settings, "aws_session_token");
    if (!o.access_key.empty() && o.secret_key.empty()) {
      return Status::InvalidArgument("profile '" + profile + "' has aws_access_key_id but no aws_secret_access_key (in '" +
                                     files.credentials_path + "' or '" + files.config_path + "')");
    }
  }
  // Unsigned requests (public buckets) only when asked for, like `aws s3 --no-sign-request`.
  o.anonymous = IsTrue(setting("AWS_NO_SIGN_REQUEST", "no_sign_request"));
  if (!o.anonymous) o.credentials = DefaultCredentialsChain();

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
