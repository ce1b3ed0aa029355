#include "s3_command.h"

#include <cstdio>

#include "arg_parser.h"
#include "sluice/aws_credentials.h"

namespace sluice::cli {

int RunS3(const std::vector<std::string>& all_args) {
  ArgParser p("sluice s3 credentials",
              "Resolves AWS credentials the way `sluice run` does for s3:// (environment, web identity, the profile's keys, "
              "role or credential_process, container credentials, instance metadata) and says which source answered, the "
              "access key id and when they expire; the secret and the session token appear only as SHA-256 digests.\n"
              "  --json                 one JSON line: provider, access_key_id, secret_sha256, session_token_sha256, expiration");
  std::vector<std::string> args;
  bool json = false;
  std::string sub;
  for (const auto& a : all_args) {
    if (a == "--json") {
      json = true;
    } else if (sub.empty() && a.rfind("--", 0) != 0) {
      sub = a;
    } else {
      args.push_back(a);
    }
  }
  if (!p.Parse(args)) return p.exit_code();
  if (sub != "credentials") return p.Fail("the only s3 subcommand is `credentials`");
  auto c = DefaultCredentialsChain()->Get();
  if (!c.ok()) {
    std::fprintf(stderr, "sluice s3 credentials: %s\n", c.status().message().c_str());
    return 2;
  }
  if (json) {
    std::printf("%s\n", DescribeCredentialsJson(*c).c_str());
  } else {
    std::printf("provider: %s\naccess key id: %s\nsession token: %s\n", c->provider.c_str(), c->access_key.c_str(),
                c->session_token.empty() ? "none (long-term keys)" : "yes (temporary credentials)");
  }
  return 0;
}

}  // namespace sluice::cli
