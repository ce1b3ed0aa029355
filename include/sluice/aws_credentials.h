#pragma once
/// AWS credentials the way the AWS SDKs find them, refreshed while a long job runs.
///
/// The default chain, in the order of the AWS SDK for JavaScript (the tests' oracle); the
/// first source that is configured answers, one that is configured but fails stops the chain:
///   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), unless
///      AWS_PROFILE names a profile
///   2. the profile (AWS_PROFILE, else "default") in ~/.aws/credentials and ~/.aws/config:
///      role_arn + source_profile / credential_source (STS AssumeRole, chains of profiles),
///      static keys, role_arn + web_identity_token_file, credential_process
///   3. web identity from the environment: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
///      (+ AWS_ROLE_SESSION_NAME), exchanged with STS AssumeRoleWithWebIdentity (EKS IRSA)
///   4. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS) or _FULL_URI (EKS
///      Pod Identity) with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)
///   5. EC2 instance metadata (IMDSv2: a session token, then the role's credentials; IMDSv1
///      only if AWS_EC2_METADATA_V1_DISABLED is not set); AWS_EC2_METADATA_DISABLED=true skips
///      it, AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
/// STS is reached at AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's `services` sts
/// endpoint_url or its endpoint_url, else https://sts.REGION.amazonaws.com.
///
/// Temporary credentials are refreshed before they expire: inside the last quarter of their
/// life (at most 5 minutes before) one caller refreshes while the others keep signing with the
/// current, still valid keys; inside the last few seconds every caller waits for the refresh,
/// so no request is signed with keys about to expire. Invalidate() (after an ExpiredToken
/// answer) forces the next Get to fetch new ones.
///
/// Errors name the sources tried and why each did not answer, never a secret or a token.
///
/// Threading: a provider may be used from any number of threads; one refresh at a time.

#include <memory>
#include <string>

#include "sluice/status.h"

namespace sluice {

struct AwsCredentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty for long-term keys
  double expires_at = 0;      // Unix seconds; 0 = does not expire
  /// Where they came from: environment | web-identity | profile | process | assume-role |
  /// container | imds | static.
  std::string provider;
};

class AwsCredentialsProvider {
 public:
  virtual ~AwsCredentialsProvider() = default;
  /// Valid credentials now (resolving or refreshing them when needed).
  virtual Result<AwsCredentials> Get() = 0;
  /// The service said the credentials expired: the next Get fetches new ones.
  virtual void Invalidate() = 0;
};

/// Fixed credentials (explicit options, tests).
std::shared_ptr<AwsCredentialsProvider> StaticCredentialsProvider(AwsCredentials credentials);
/// The default chain above, resolved on the first Get (nothing is contacted before).
std::shared_ptr<AwsCredentialsProvider> DefaultCredentialsChain();
/// One JSON line that identifies credentials without revealing them (`sluice s3 credentials`):
/// provider, access_key_id, secret_sha256, session_token_sha256 (null without), expiration.
std::string DescribeCredentialsJson(const AwsCredentials& credentials);

}  // namespace sluice
