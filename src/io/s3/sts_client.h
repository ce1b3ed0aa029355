#pragma once
/// STS, the two calls the credential chain needs: AssumeRoleWithWebIdentity (an OIDC token
/// from a file, unsigned: EKS IRSA, web_identity_token_file) and AssumeRole (signed with the
/// source profile's credentials: role_arn + source_profile / credential_source).
///
/// Threading: pure functions over the given HttpClient (which is thread-safe).

#include <string>

#include "io/s3/aws_profile.h"
#include "io/s3/http_client.h"
#include "sluice/aws_credentials.h"

namespace sluice::s3 {

struct StsEndpoint {
  std::string url;     // scheme://host[:port]
  std::string region;  // for the signature
};

/// Like the AWS SDK for JavaScript: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, then the active
/// profile's (`profile`, AWS_PROFILE's, not a source_profile's) `services` section's
/// `sts = endpoint_url` (or its own nested `sts =`), its endpoint_url, else
/// https://sts.REGION.amazonaws.com (the regional endpoint).
StsEndpoint ResolveStsEndpoint(const AwsFiles& files, const std::string& profile, const std::string& region);

Result<AwsCredentials> AssumeRoleWithWebIdentity(HttpClient& http, const StsEndpoint& sts, const std::string& role_arn,
                                                 const std::string& session_name, const std::string& token);
Result<AwsCredentials> AssumeRole(HttpClient& http, const StsEndpoint& sts, const AwsCredentials& source, const std::string& role_arn,
                                  const std::string& session_name, const std::string& external_id, int duration_s);

/// ISO 8601 UTC ("2026-12-05T10:00:00Z", fractions allowed) to Unix seconds; 0 when unparsable.
double ParseAwsTime(const std::string& iso);
std::string FormatAwsTime(double unix_s);
/// A default role session name: sluice-<milliseconds since the epoch>.
std::string DefaultSessionName();

}  // namespace sluice::s3
