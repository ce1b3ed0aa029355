// S3Options::FromEnvironment: environment variables and ~/.aws files, like the AWS CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sluice/s3.h"

namespace sluice {
namespace {

class AwsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
                          "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "SLUICE_S3_MAX_ATTEMPTS"}) {
      unsetenv(v);
    }
    dir_ = ::testing::TempDir() + "aws_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_ + "/credentials").c_str(), 1);
    setenv("AWS_CONFIG_FILE", (dir_ + "/config").c_str(), 1);
    std::ofstream(dir_ + "/credentials") << "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = sdefault\n"
                                            "# comment\n[dev]\naws_access_key_id=AKDEV\naws_secret_access_key=sdev\n"
                                            "aws_session_token=tdev\n";
    std::ofstream(dir_ + "/config") << "[default]\nregion = eu-west-3\n[profile dev]\nregion=us-west-2\n"
                                       "s3 =\n  endpoint_url = http://127.0.0.1:9000\n";
  }
  std::string dir_;
};

TEST_F(AwsConfigTest, DefaultProfileFromFiles) {
  S3Options o = S3Options::FromEnvironment().value();
  EXPECT_EQ(o.access_key, "AKDEFAULT");
  EXPECT_EQ(o.secret_key, "sdefault");
  EXPECT_EQ(o.region, "eu-west-3");
  EXPECT_TRUE(o.endpoint.empty());
  EXPECT_FALSE(o.anonymous);
}

TEST_F(AwsConfigTest, NamedProfileWithNestedS3Endpoint) {
  setenv("AWS_PROFILE", "dev", 1);
  S3Options o = S3Options::FromEnvironment().value();
  EXPECT_EQ(o.access_key, "AKDEV");
  EXPECT_EQ(o.session_token, "tdev");
  EXPECT_EQ(o.region, "us-west-2");
  EXPECT_EQ(o.endpoint, "http://127.0.0.1:9000");
}

TEST_F(AwsConfigTest, EnvironmentWins) {
  setenv("AWS_PROFILE", "dev", 1);
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
  setenv("AWS_REGION", "ap-south-1", 1);
  setenv("AWS_ENDPOINT_URL", "http://generic:1/", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://s3only:2/", 1);
  setenv("SLUICE_S3_MAX_ATTEMPTS", "3", 1);
  S3Options o = S3Options::FromEnvironment().value();
  EXPECT_EQ(o.access_key, "AKENV");
  EXPECT_EQ(o.secret_key, "senv");
  EXPECT_EQ(o.session_token, "");  // credentials come as a set
  EXPECT_EQ(o.region, "ap-south-1");
  EXPECT_EQ(o.endpoint, "http://s3only:2");
  EXPECT_EQ(o.max_attempts, 3);
}

TEST_F(AwsConfigTest, UnsignedOnlyWhenAskedFor) {
  std::ofstream(dir_ + "/credentials") << "";
  S3Options o = S3Options::FromEnvironment().value();
  EXPECT_FALSE(o.anonymous);  // no keys here: the credential chain looks further on the first request
  EXPECT_NE(o.credentials, nullptr);
  setenv("AWS_NO_SIGN_REQUEST", "true", 1);
  EXPECT_TRUE(S3Options::FromEnvironment().value().anonymous);
  unsetenv("AWS_NO_SIGN_REQUEST");
}

TEST_F(AwsConfigTest, ClearErrorsWithoutSecrets) {
  setenv("AWS_PROFILE", "nosuch", 1);
  auto r = S3Options::FromEnvironment();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nosuch"), std::string::npos);
  unsetenv("AWS_PROFILE");
  setenv("AWS_ACCESS_KEY_ID", "AKONLY", 1);
  auto half = S3Options::FromEnvironment();
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("secret access key"), std::string::npos);
}

}  // namespace
}  // namespace sluice
