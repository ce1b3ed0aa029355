#pragma once
/// AWS Signature Version 4 for S3, written from AWS's specification and checked against AWS's
/// own JavaScript signer (tests/io/s3/sigv4_conformance.mjs). We sign ourselves rather than
/// use libcurl's CURLOPT_AWS_SIGV4 because libcurl 7.88 leaves '=' in keys unencoded in the
/// canonical URI (Hive-style `date=2024-01-01/` keys then fail on AWS).
///
/// Threading: pure functions.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::s3 {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
  bool empty() const { return access_key.empty() && secret_key.empty(); }
};

struct SigningInput {
  std::string method;
  std::string host;          // exactly as sent in the Host header (with :port when not default)
  std::string encoded_path;  // the request path, already URI-encoded (S3: once, '/' kept)
  KeyValues query;           // raw (unencoded) names and values
  KeyValues headers;         // extra headers to sign (host, x-amz-* are added here)
  std::string payload_sha256;  // hex digest, or "UNSIGNED-PAYLOAD"
  std::string region;
  std::string amz_date;      // yyyymmddThhmmssZ
  std::string service = "s3";  // the scope's service: s3, sts
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;  // the Authorization header's value
  KeyValues headers;          // every header the request must carry (signed ones)
};

/// RFC 3986 percent-encoding as S3 wants it: unreserved characters stay, everything else is
/// %XX (upper case); '/' stays unless `encode_slash`.
std::string UriEncode(std::string_view s, bool encode_slash);
/// The canonical query string: names and values encoded, sorted by name then value.
std::string CanonicalQuery(const KeyValues& query);
std::string Sha256Hex(std::string_view data);
std::string Sha256Hex(const void* data, size_t size);
Signature SignV4(const SigningInput& in, const Credentials& creds);
/// The current time as yyyymmddThhmmssZ.
std::string AmzDateNow();

}  // namespace sluice::s3
