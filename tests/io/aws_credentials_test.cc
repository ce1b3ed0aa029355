// The credential chain's sources that need no server (aws_credentials.h): the environment,
// profile keys, credential_process, role chains that cannot work, what the errors say. The
// servers (IMDS, container endpoint, STS) and the AWS SDK as the oracle are in
// tests/io/s3/credentials/.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sluice/aws_credentials.h"

namespace sluice {
namespace {

class AwsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                          "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CREDENTIAL_EXPIRATION"}) {
      unsetenv(v);
    }
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);  // never reach for a real metadata service here
    dir_ = ::testing::TempDir() + "awscred_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_ + "/credentials").c_str(), 1);
    setenv("AWS_CONFIG_FILE", (dir_ + "/config").c_str(), 1);
    std::ofstream(dir_ + "/credentials") << "";
    std::ofstream(dir_ + "/config") << "";
  }
  void Config(const std::string& text) { std::ofstream(dir_ + "/config") << text; }
  std::string Script(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
  }
  std::string dir_;
};

TEST_F(AwsCredentialsTest, EnvironmentFirst) {
  Config("[default]\naws_access_key_id = AKPROFILE\naws_secret_access_key = sprofile\n");
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
  setenv("AWS_SESSION_TOKEN", "tenv", 1);
  const AwsCredentials c = DefaultCredentialsChain()->Get().value();
  EXPECT_EQ(c.provider, "environment");
  EXPECT_EQ(c.access_key, "AKENV");
  EXPECT_EQ(c.session_token, "tenv");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  const AwsCredentials p = DefaultCredentialsChain()->Get().value();
  EXPECT_EQ(p.provider, "profile");
  EXPECT_EQ(p.access_key, "AKPROFILE");
}

TEST_F(AwsCredentialsTest, CredentialProcessAndItsFailures) {
  const std::string good = Script("good.sh",
                                  "echo '{\"Version\": 1, \"AccessKeyId\": \"AKPROC\", \"SecretAccessKey\": \"sproc\", "
                                  "\"SessionToken\": \"tproc\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'");
  Config("[profile p]\ncredential_process = " + good + "\n");
  setenv("AWS_PROFILE", "p", 1);
  const AwsCredentials c = DefaultCredentialsChain()->Get().value();
  EXPECT_EQ(c.provider, "process");
  EXPECT_EQ(c.access_key, "AKPROC");
  EXPECT_EQ(c.session_token, "tproc");
  EXPECT_EQ(c.expires_at, 4070908800.0);

  Config("[profile p]\ncredential_process = " + Script("fails.sh", "echo 'secret-ish output' ; exit 3") + "\n");
  auto failed = DefaultCredentialsChain()->Get();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("credential_process of profile 'p' failed (exit status 3)"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(failed.status().message().find("secret-ish"), std::string::npos);

  Config("[profile p]\ncredential_process = " + Script("garbage.sh", "echo 'hello: [world'") + "\n");
  auto garbage = DefaultCredentialsChain()->Get();
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("is not"), std::string::npos) << garbage.status().message();
}

TEST_F(AwsCredentialsTest, ErrorsNameTheSourcesAndNeverTheSecrets) {
  auto none = DefaultCredentialsChain()->Get();
  ASSERT_FALSE(none.ok());
  for (const char* source : {"environment:", "web identity:", "profile:", "container:", "instance metadata:"}) {
    EXPECT_NE(none.status().message().find(source), std::string::npos) << source << " in " << none.status().message();
  }
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", (dir_ + "/no-such-token").c_str(), 1);
  setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", 1);
  auto missing = DefaultCredentialsChain()->Get();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("web identity token file: cannot read '" + dir_ + "/no-such-token'"), std::string::npos)
      << missing.status().message();
  unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
  unsetenv("AWS_ROLE_ARN");

  Config("[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n");
  setenv("AWS_PROFILE", "a", 1);
  auto cycle = DefaultCredentialsChain()->Get();
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("circular"), std::string::npos) << cycle.status().message();
}

TEST_F(AwsCredentialsTest, DescribedWithoutTheSecret) {
  const std::string json = DescribeCredentialsJson({"AKID", "the-secret", "", 0, "profile"});
  EXPECT_EQ(json.find("the-secret"), std::string::npos);
  EXPECT_NE(json.find("\"access_key_id\":\"AKID\""), std::string::npos);
  EXPECT_NE(json.find("\"session_token_sha256\":null"), std::string::npos);
}

}  // namespace
}  // namespace sluice
