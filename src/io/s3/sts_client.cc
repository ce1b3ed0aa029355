#include "io/s3/sts_client.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "io/s3/s3_xml.h"
#include "io/s3/sigv4.h"

namespace sluice::s3 {
namespace {

std::string FormEncode(const KeyValues& params) {
  std::string body;
  for (const auto& [k, v] : params) body += (body.empty() ? "" : "&") + UriEncode(k, true) + "=" + UriEncode(v, true);
  return body;
}

std::string HostOf(const std::string& url) {
  const size_t sep = url.find("://");
  std::string host = sep == std::string::npos ? url : url.substr(sep + 3);
  const size_t slash = host.find('/');
  if (slash != std::string::npos) host.resize(slash);
  return host;
}

/// One STS call; `source` signs it (AssumeRole), else it goes unsigned.
Result<AwsCredentials> Call(HttpClient& http, const StsEndpoint& sts, const KeyValues& params, const AwsCredentials* source,
                            const std::string& what) {
  const std::string body = FormEncode(params);
  HttpRequest req;
  req.method = "POST";
  req.url = sts.url + "/";
  req.body = reinterpret_cast<const uint8_t*>(body.data());
  req.body_size = static_cast<int64_t>(body.size());
  req.request_timeout_ms = 10000;
  req.connect_timeout_ms = 3000;
  const std::string content_type = "application/x-www-form-urlencoded; charset=utf-8";
  if (source != nullptr) {
    SigningInput in{"POST", HostOf(sts.url), "/", {}, {{"content-type", content_type}}, Sha256Hex(body), sts.region, AmzDateNow(), "sts"};
    Signature sig = SignV4(in, {source->access_key, source->secret_key, source->session_token});
    for (auto& [k, v] : sig.headers) {
      if (k != "host") req.headers.emplace_back(k, v);
    }
    req.headers.emplace_back("Authorization", sig.authorization);
  } else {
    req.headers.emplace_back("Content-Type", content_type);
  }
  HttpResponse r;
  for (int attempt = 1; attempt <= 3; ++attempt) {  // STS throttles and has bad seconds too
    r = http.Perform(req);
    if (!r.transport_error && r.status < 500 && r.status != 429) break;
  }
  const std::string where = "STS " + what + " at " + sts.url;
  if (r.transport_error) return Status::IOError(where + ": " + r.transport_message);
  if (r.status != 200) {
    const std::string code = XmlText(r.body, "Code"), message = XmlText(r.body, "Message");
    return Status::InvalidArgument(where + ": HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code) +
                                    (message.empty() ? "" : ": " + message));
  }
  const std::string creds = XmlText(r.body, "Credentials");
  AwsCredentials c;
  c.access_key = XmlText(creds, "AccessKeyId");
  c.secret_key = XmlText(creds, "SecretAccessKey");
  c.session_token = XmlText(creds, "SessionToken");
  c.expires_at = ParseAwsTime(XmlText(creds, "Expiration"));
  if (c.access_key.empty() || c.secret_key.empty() || c.session_token.empty() || c.expires_at == 0) {
    return Status::InvalidData(where + ": the answer is not a valid STS XML response (no complete Credentials with AccessKeyId, "
                                       "SecretAccessKey, SessionToken, Expiration)");
  }
  return c;
}

}  // namespace

StsEndpoint ResolveStsEndpoint(const AwsFiles& files, const std::string& profile_name, const std::string& region) {
  StsEndpoint e;
  e.region = region.empty() ? "us-east-1" : region;
  const IniSection profile = files.Profile(profile_name);
  std::string services;
  if (const std::string name = Setting(profile, "services"); !name.empty()) {
    if (auto it = files.config.find("services " + name); it != files.config.end()) services = Setting(it->second, "sts.endpoint_url");
  }
  for (const std::string& v : {Env("AWS_ENDPOINT_URL_STS"), Env("AWS_ENDPOINT_URL"), services, Setting(profile, "sts.endpoint_url"),
                               Setting(profile, "endpoint_url")}) {
    if (!v.empty()) {
      e.url = v;
      break;
    }
  }
  if (e.url.empty()) e.url = "https://sts." + e.region + ".amazonaws.com";
  while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
  return e;
}

Result<AwsCredentials> AssumeRoleWithWebIdentity(HttpClient& http, const StsEndpoint& sts, const std::string& role_arn,
                                                 const std::string& session_name, const std::string& token) {
  return Call(http, sts,
              {{"Action", "AssumeRoleWithWebIdentity"}, {"Version", "2011-06-15"}, {"RoleArn", role_arn},
               {"RoleSessionName", session_name}, {"WebIdentityToken", token}},
              nullptr, "AssumeRoleWithWebIdentity (role " + role_arn + ")");
}

Result<AwsCredentials> AssumeRole(HttpClient& http, const StsEndpoint& sts, const AwsCredentials& source, const std::string& role_arn,
                                  const std::string& session_name, const std::string& external_id, int duration_s) {
  KeyValues params{{"Action", "AssumeRole"}, {"Version", "2011-06-15"}, {"RoleArn", role_arn}, {"RoleSessionName", session_name}};
  if (!external_id.empty()) params.emplace_back("ExternalId", external_id);
  if (duration_s > 0) params.emplace_back("DurationSeconds", std::to_string(duration_s));
  return Call(http, sts, params, &source, "AssumeRole (role " + role_arn + ")");
}

double ParseAwsTime(const std::string& iso) {
  std::tm tm{};
  int frac_chars = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &frac_chars) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double t = static_cast<double>(timegm(&tm));
  size_t i = static_cast<size_t>(frac_chars);
  if (i < iso.size() && iso[i] == '.') {
    double scale = 0.1;
    for (++i; i < iso.size() && iso[i] >= '0' && iso[i] <= '9'; ++i, scale /= 10) t += (iso[i] - '0') * scale;
  }
  if (i < iso.size() && (iso[i] == '+' || iso[i] == '-') && i + 5 < iso.size() + 1) {  // +hh:mm
    int hh = 0, mm = 0;
    if (std::sscanf(iso.c_str() + i + 1, "%2d:%2d", &hh, &mm) == 2) t -= (iso[i] == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
  }
  return t;
}

std::string FormatAwsTime(double unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string DefaultSessionName() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return "sluice-" + std::to_string(ms);
}

}  // namespace sluice::s3
