// sigv4_dump: sluice's SigV4 signer as a filter for tests/io/s3/sigv4_conformance.mjs, which
// compares it with AWS's own JavaScript signer. One JSON request per stdin line in, one JSON
// line with the canonical request, string to sign, signature and Authorization header out.
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <string>

#include "io/s3/sigv4.h"
#include "sluice/json_lines.h"

namespace {

sluice::s3::KeyValues Pairs(const YAML::Node& list) {
  sluice::s3::KeyValues out;
  if (!list) return out;
  for (const auto& p : list) out.emplace_back(p[0].as<std::string>(), p[1].as<std::string>());
  return out;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    try {
      // JSON is YAML's flow style: yaml-cpp reads it (with \uXXXX escapes).
      const YAML::Node j = YAML::Load(line);
      sluice::s3::SigningInput in;
      in.method = j["method"].as<std::string>();
      in.host = j["host"].as<std::string>();
      in.encoded_path = sluice::s3::UriEncode(j["key_path"].as<std::string>(), false);
      in.query = Pairs(j["query"]);
      in.headers = Pairs(j["headers"]);
      in.payload_sha256 = j["payload_sha256"].as<std::string>();
      in.region = j["region"].as<std::string>();
      in.amz_date = j["amz_date"].as<std::string>();
      const sluice::s3::Credentials creds{j["access_key"].as<std::string>(), j["secret_key"].as<std::string>(),
                                          j["session_token"] ? j["session_token"].as<std::string>() : ""};
      const sluice::s3::Signature sig = sluice::s3::SignV4(in, creds);
      std::string out = "{\"canonical_request\":";
      sluice::AppendJsonString(sig.canonical_request, &out);
      out += ",\"string_to_sign\":";
      sluice::AppendJsonString(sig.string_to_sign, &out);
      out += ",\"signature\":";
      sluice::AppendJsonString(sig.signature, &out);
      out += ",\"authorization\":";
      sluice::AppendJsonString(sig.authorization, &out);
      out += "}";
      std::cout << out << std::endl;
    } catch (const std::exception& e) {
      std::string out = "{\"error\":";
      sluice::AppendJsonString(e.what(), &out);
      std::cout << out << "}" << std::endl;
    }
  }
  return 0;
}
