#include "io/s3/credential_sources.h"

#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "io/s3/sts_client.h"

namespace sluice::s3 {
namespace {

Result<std::string> ReadFileText(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument(what + ": cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// A configured source's outcome: its credentials or its error.
SourceResult Found(Result<AwsCredentials> r) {
  if (!r.ok()) return r.status();
  return std::optional<AwsCredentials>(std::move(*r));
}

bool IsTrue(const std::string& v) { return v == "true" || v == "TRUE" || v == "True"; }

/// The JSON credentials that IMDS, the container endpoint and credential_process print:
/// AccessKeyId, SecretAccessKey, Token or SessionToken, Expiration.
Result<AwsCredentials> ParseJsonCredentials(const std::string& text, const std::string& where) {
  AwsCredentials c;
  try {
    const YAML::Node n = YAML::Load(text);
    if (!n.IsMap()) throw YAML::Exception(YAML::Mark::null_mark(), "not a JSON object");
    c.access_key = n["AccessKeyId"].as<std::string>("");
    c.secret_key = n["SecretAccessKey"].as<std::string>("");
    c.session_token = n["Token"] ? n["Token"].as<std::string>("") : n["SessionToken"].as<std::string>("");
    const std::string expiration = n["Expiration"].as<std::string>("");
    if (!expiration.empty()) {
      c.expires_at = ParseAwsTime(expiration);
      if (c.expires_at == 0) return Status::InvalidData(where + ": Expiration '" + expiration + "' is not an ISO 8601 time");
    }
  } catch (const YAML::Exception&) {
    return Status::InvalidData(where + ": the answer is not the credentials JSON (AccessKeyId, SecretAccessKey, Token, Expiration)");
  }
  if (c.access_key.empty() || c.secret_key.empty()) {
    return Status::InvalidData(where + ": the answer has no AccessKeyId and SecretAccessKey");
  }
  return c;
}

/// A GET (or PUT) with a short timeout, retried on transport errors and 5xx.
HttpResponse Fetch(HttpClient& http, const std::string& method, const std::string& url,
                   std::vector<std::pair<std::string, std::string>> headers, int timeout_ms, int attempts) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = std::move(headers);
  req.request_timeout_ms = timeout_ms;
  req.connect_timeout_ms = timeout_ms;
  HttpResponse r;
  for (int i = 0; i < attempts; ++i) {
    r = http.Perform(req);
    if (!r.transport_error && r.status < 500) break;
  }
  return r;
}

/// STS's region: the role's profile's, else the environment's.
std::string Region(const IniSection& profile) {
  for (const std::string& r : {Setting(profile, "region"), Env("AWS_REGION"), Env("AWS_DEFAULT_REGION")}) {
    if (!r.empty()) return r;
  }
  return "us-east-1";
}

Result<AwsCredentials> RunCredentialProcess(const std::string& command, const std::string& profile) {
  const std::string where = "credential_process of profile '" + profile + "'";
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return Status::IOError(where + ": cannot start it: " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  if (status != 0) {
    return Status::InvalidArgument(where + " failed (" +
                                   (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status)) : std::string("killed")) + ")");
  }
  try {
    const YAML::Node n = YAML::Load(out);
    if (!n.IsMap() || n["Version"].as<int>(0) != 1) {
      return Status::InvalidData(where + ": its output is not the credential_process JSON (\"Version\": 1, AccessKeyId, SecretAccessKey)");
    }
  } catch (const YAML::Exception&) {
    return Status::InvalidData(where + ": its output is not JSON (expected \"Version\": 1, AccessKeyId, SecretAccessKey)");
  }
  ASSIGN_OR_RETURN(AwsCredentials c, ParseJsonCredentials(out, where));
  if (c.expires_at > 0 && c.expires_at <= static_cast<double>(std::time(nullptr))) {
    return Status::InvalidArgument(where + ": it printed credentials that expired at " + FormatAwsTime(c.expires_at));
  }
  c.provider = "process";
  return c;
}

Result<AwsCredentials> WebIdentity(const SourceContext& ctx, const IniSection& profile, const std::string& token_file,
                                   const std::string& role_arn, std::string session) {
  ASSIGN_OR_RETURN(std::string token, ReadFileText(token_file, "web identity token file"));
  if (session.empty()) session = DefaultSessionName();
  ASSIGN_OR_RETURN(AwsCredentials c, AssumeRoleWithWebIdentity(*ctx.http, ResolveStsEndpoint(ctx.files, ctx.profile, Region(profile)),
                                                               role_arn, session, token));
  c.provider = "web-identity";
  return c;
}

SourceResult ResolveProfile(const SourceContext& ctx, const std::string& name, int depth, std::string* why);

/// role_arn with source_profile or credential_source: the source's credentials sign AssumeRole.
Result<AwsCredentials> AssumeRoleOfProfile(const SourceContext& ctx, const std::string& name, const IniSection& s, int depth) {
  const std::string role_arn = Setting(s, "role_arn"), source_profile = Setting(s, "source_profile");
  const std::string credential_source = Setting(s, "credential_source");
  if (depth > 8) return Status::InvalidArgument("profile '" + name + "': source_profile chain too long or circular");
  std::optional<AwsCredentials> source;
  std::string why;
  if (!source_profile.empty()) {
    if (source_profile == name) {  // a profile that assumes a role with its own keys
      if (Setting(s, "aws_access_key_id").empty()) {
        return Status::InvalidArgument("profile '" + name + "' names itself as source_profile but has no aws_access_key_id");
      }
      source = AwsCredentials{Setting(s, "aws_access_key_id"), Setting(s, "aws_secret_access_key"), Setting(s, "aws_session_token"), 0, "profile"};
    } else {
      ASSIGN_OR_RETURN(source, ResolveProfile(ctx, source_profile, depth + 1, &why));
    }
  } else if (credential_source == "Environment") {
    ASSIGN_OR_RETURN(source, EnvironmentCredentials(&why));
  } else if (credential_source == "Ec2InstanceMetadata") {
    ASSIGN_OR_RETURN(source, InstanceMetadataCredentials(ctx, &why));
  } else if (credential_source == "EcsContainer") {
    ASSIGN_OR_RETURN(source, ContainerCredentials(ctx, &why));
  } else {
    return Status::InvalidArgument("profile '" + name + "': credential_source '" + credential_source +
                                   "' is not Environment, Ec2InstanceMetadata or EcsContainer");
  }
  if (!source) {
    return Status::InvalidArgument("profile '" + name + "' assumes " + role_arn + " with credentials from " +
                                   (source_profile.empty() ? "credential_source " + credential_source : "profile '" + source_profile + "'") +
                                   ", which has none: " + why);
  }
  std::string session = Setting(s, "role_session_name");
  if (session.empty()) session = DefaultSessionName();
  const std::string duration = Setting(s, "duration_seconds");
  ASSIGN_OR_RETURN(AwsCredentials c, AssumeRole(*ctx.http, ResolveStsEndpoint(ctx.files, ctx.profile, Region(s)), *source, role_arn, session,
                                                Setting(s, "external_id"), duration.empty() ? 0 : std::atoi(duration.c_str())));
  c.provider = "assume-role";
  return c;
}

SourceResult ResolveProfile(const SourceContext& ctx, const std::string& name, int depth, std::string* why) {
  bool found = false;
  const IniSection s = ctx.files.Profile(name, &found);
  const std::string files = "'" + ctx.files.credentials_path + "' or '" + ctx.files.config_path + "'";
  if (!found) {
    if (depth == 0 && !ctx.profile_named) {
      *why = "no profile '" + name + "' in " + files;
      return std::nullopt;
    }
    return Status::InvalidArgument("profile '" + name + "' is not in " + files);
  }
  const std::string role_arn = Setting(s, "role_arn");
  if (!role_arn.empty() && (!Setting(s, "source_profile").empty() || !Setting(s, "credential_source").empty())) {
    return Found(AssumeRoleOfProfile(ctx, name, s, depth));
  }
  if (!Setting(s, "aws_access_key_id").empty()) {
    if (Setting(s, "aws_secret_access_key").empty()) {
      return Status::InvalidArgument("profile '" + name + "' has aws_access_key_id but no aws_secret_access_key (in " + files + ")");
    }
    return AwsCredentials{Setting(s, "aws_access_key_id"), Setting(s, "aws_secret_access_key"), Setting(s, "aws_session_token"), 0, "profile"};
  }
  if (!role_arn.empty() && !Setting(s, "web_identity_token_file").empty()) {
    return Found(WebIdentity(ctx, s, Setting(s, "web_identity_token_file"), role_arn, Setting(s, "role_session_name")));
  }
  if (!Setting(s, "credential_process").empty()) return Found(RunCredentialProcess(Setting(s, "credential_process"), name));
  *why = "profile '" + name + "' has no credentials (aws_access_key_id, role_arn, credential_process) in " + files;
  return std::nullopt;
}

bool LoopbackOrContainerHost(const std::string& url) {
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return false;
  if (url.compare(0, sep, "https") == 0) return true;
  std::string host = url.substr(sep + 3);
  host = host.substr(0, host.find('/'));
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "169.254.170.2" || host == "169.254.170.23" ||
         host == "[fd00:ec2::23]";
}

}  // namespace

SourceResult EnvironmentCredentials(std::string* why) {
  const std::string key = Env("AWS_ACCESS_KEY_ID");
  if (key.empty()) {
    *why = "AWS_ACCESS_KEY_ID is not set";
    return std::nullopt;
  }
  if (!Env("AWS_PROFILE").empty()) {  // like the AWS SDK for JavaScript: a named profile wins over keys in the environment
    *why = "AWS_PROFILE is set, so the profile's credentials are used";
    return std::nullopt;
  }
  if (Env("AWS_SECRET_ACCESS_KEY").empty()) {
    return Status::InvalidArgument("environment: AWS_ACCESS_KEY_ID is set but no secret access key (AWS_SECRET_ACCESS_KEY)");
  }
  AwsCredentials c{key, Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN"), 0, "environment"};
  if (const std::string e = Env("AWS_CREDENTIAL_EXPIRATION"); !e.empty()) c.expires_at = ParseAwsTime(e);
  return c;
}

SourceResult WebIdentityFromEnvironment(const SourceContext& ctx, std::string* why) {
  const std::string token_file = Env("AWS_WEB_IDENTITY_TOKEN_FILE"), role_arn = Env("AWS_ROLE_ARN");
  if (token_file.empty() || role_arn.empty()) {
    *why = "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set";
    return std::nullopt;
  }
  return Found(WebIdentity(ctx, ctx.files.Profile(ctx.profile), token_file, role_arn, Env("AWS_ROLE_SESSION_NAME")));
}

SourceResult ProfileCredentials(const SourceContext& ctx, std::string* why) { return ResolveProfile(ctx, ctx.profile, 0, why); }

SourceResult ContainerCredentials(const SourceContext& ctx, std::string* why) {
  std::string url;
  if (const std::string rel = Env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) {
    url = "http://169.254.170.2" + rel;
  } else if (const std::string full = Env("AWS_CONTAINER_CREDENTIALS_FULL_URI"); !full.empty()) {
    if (!LoopbackOrContainerHost(full)) {
      return Status::InvalidArgument("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI '" + full +
                                     "' must be https, a loopback address or the ECS/EKS credentials host");
    }
    url = full;
  } else {
    *why = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set";
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (const std::string token = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN"); !token.empty()) {
    headers.emplace_back("Authorization", token);
  } else if (const std::string file = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadFileText(file, "container credentials: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
    headers.emplace_back("Authorization", token);
  }
  const std::string where = "container credentials at " + url;
  HttpResponse r = Fetch(*ctx.http, "GET", url, headers, 1000, 3);
  if (r.transport_error) return Status::IOError(where + ": no answer: " + r.transport_message);
  if (r.status == 401 || r.status == 403) {
    return Status::InvalidArgument(where + ": HTTP " + std::to_string(r.status) + " (unauthorized: the authorization token was refused)");
  }
  if (r.status != 200) return Status::InvalidArgument(where + ": HTTP " + std::to_string(r.status));
  ASSIGN_OR_RETURN(AwsCredentials c, ParseJsonCredentials(r.body, where));
  c.provider = "container";
  return c;
}

SourceResult InstanceMetadataCredentials(const SourceContext& ctx, std::string* why) {
  if (const std::string off = Env("AWS_EC2_METADATA_DISABLED"); !off.empty() && off != "false") {
    *why = "AWS_EC2_METADATA_DISABLED is set";
    return std::nullopt;
  }
  const IniSection profile = ctx.files.Profile(ctx.profile);
  std::string endpoint = Env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = Setting(profile, "ec2_metadata_service_endpoint");
  if (endpoint.empty()) {
    std::string mode = Env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (mode.empty()) mode = Setting(profile, "ec2_metadata_service_endpoint_mode");
    endpoint = mode == "IPv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const bool v1_allowed = !IsTrue(Env("AWS_EC2_METADATA_V1_DISABLED")) && !IsTrue(Setting(profile, "ec2_metadata_v1_disabled"));
  const std::string where = "instance metadata (IMDS) at " + endpoint;
  // IMDSv2: a session token first (PUT with its lifetime), sent with every GET.
  // IMDSv2: a session token first (PUT with its lifetime), sent with every GET; IMDSv1 (no
  // token) only when the PUT fails otherwise than with 400 and v1 is allowed. 1 s per request.
  HttpResponse t = Fetch(*ctx.http, "PUT", endpoint + "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}}, 1000, 1);
  std::vector<std::pair<std::string, std::string>> headers;
  if (!t.transport_error && t.status == 200 && !t.body.empty()) {
    headers.emplace_back("X-aws-ec2-metadata-token", t.body);
  } else if (t.status == 400 || !v1_allowed) {
    if (t.transport_error) {
      *why = "no answer from " + endpoint + " within 1 s (not on EC2?)";
      return std::nullopt;
    }
    return Status::InvalidArgument(where + ": the session token request answered HTTP " + std::to_string(t.status) +
                                   (v1_allowed ? "" : " (and IMDSv1 is disabled)"));
  }
  const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
  HttpResponse roles = Fetch(*ctx.http, "GET", base, headers, 1000, 1);
  if (roles.transport_error) {
    *why = "no answer from " + endpoint + " within 1 s (not on EC2?)";
    return std::nullopt;
  }
  if (roles.status == 404) return Status::InvalidArgument(where + ": the instance has no IAM role (instance profile)");
  if (roles.status != 200) return Status::InvalidArgument(where + ": listing the role answered HTTP " + std::to_string(roles.status));
  std::string role = roles.body.substr(0, roles.body.find('\n'));
  while (!role.empty() && (role.back() == ' ' || role.back() == '\r')) role.pop_back();
  if (role.empty()) return Status::InvalidData(where + ": no role name in the answer");
  HttpResponse r = Fetch(*ctx.http, "GET", base + role, headers, 1000, 1);
  if (r.transport_error) return Status::IOError(where + ": no answer for the role's credentials within 1 s");
  if (r.status != 200) return Status::InvalidArgument(where + ": the role's credentials answered HTTP " + std::to_string(r.status));
  ASSIGN_OR_RETURN(AwsCredentials c, ParseJsonCredentials(r.body, where + " (role " + role + ")"));
  c.provider = "imds";
  return c;
}

}  // namespace sluice::s3
