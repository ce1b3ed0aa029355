#pragma once
/// The AWS shared configuration files as the AWS CLI and SDKs read them: ~/.aws/credentials
/// and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), the profile AWS_PROFILE
/// names (else "default"), and a profile's settings with the credentials file winning.
///
/// Threading: pure functions over the environment and the files.

#include <map>
#include <string>

#include "sluice/status.h"

namespace sluice::s3 {

using IniSection = std::map<std::string, std::string>;

struct AwsFiles {
  std::string credentials_path, config_path;
  std::map<std::string, IniSection> credentials, config;  // by section name as written
  /// The settings of profile `name`: config's [profile name] ([default] for "default")
  /// overlaid by credentials' [name]. `found` (optional): whether either file has it.
  IniSection Profile(const std::string& name, bool* found = nullptr) const;
};

/// Reads both files; a missing file is no configuration, a malformed one an error naming it.
Result<AwsFiles> ReadAwsFiles();
/// AWS_PROFILE, else "default".
std::string ProfileName();
/// The environment variable's value, "" when unset.
std::string Env(const char* name);
/// `key` of `section`, "" when absent.
std::string Setting(const IniSection& section, const std::string& key);

}  // namespace sluice::s3
