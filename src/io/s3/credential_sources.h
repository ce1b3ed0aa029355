#pragma once
/// The sources of the default credential chain (aws_credentials.h), each on its own: the
/// environment, web identity from the environment, a profile (static keys, role_arn with
/// source_profile / credential_source / web_identity_token_file, credential_process), the
/// container endpoint, EC2 instance metadata.
///
/// Each answers credentials, or "not configured here" (nullopt, with the reason in *why so the
/// chain's error can list what it tried), or an error when it is configured but failed (the
/// chain stops there, like the SDKs).
///
/// Threading: functions; the HttpClient is thread-safe.

#include <optional>
#include <string>

#include "io/s3/aws_profile.h"
#include "io/s3/http_client.h"
#include "sluice/aws_credentials.h"

namespace sluice::s3 {

struct SourceContext {
  AwsFiles files;
  std::string profile;         // the profile in use (AWS_PROFILE or "default")
  bool profile_named = false;  // AWS_PROFILE set: a missing profile is an error
  std::string region;          // for STS
  HttpClient* http = nullptr;
};

using SourceResult = Result<std::optional<AwsCredentials>>;

SourceResult EnvironmentCredentials(std::string* why);
SourceResult WebIdentityFromEnvironment(const SourceContext& ctx, std::string* why);
SourceResult ProfileCredentials(const SourceContext& ctx, std::string* why);
SourceResult ContainerCredentials(const SourceContext& ctx, std::string* why);
SourceResult InstanceMetadataCredentials(const SourceContext& ctx, std::string* why);

}  // namespace sluice::s3
