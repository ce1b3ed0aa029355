#pragma once
/// `sluice s3 credentials [--json]`: which AWS credentials sluice finds here and where from
/// (aws_credentials.h), without showing the secret or the token.

#include <string>
#include <vector>

namespace sluice::cli {

int RunS3(const std::vector<std::string>& args);

}  // namespace sluice::cli
