#include "io/s3/s3_client.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "io/s3/s3_xml.h"

namespace sluice::s3 {
namespace {

struct Endpoint {
  std::string scheme;  // http or https
  std::string host;    // host[:port]
};

Endpoint ParseEndpoint(const S3Options& o) {
  if (o.endpoint.empty()) return {"https", "s3." + o.region + ".amazonaws.com"};
  Endpoint e{"https", o.endpoint};
  const size_t sep = o.endpoint.find("://");
  if (sep != std::string::npos) {
    e.scheme = o.endpoint.substr(0, sep);
    e.host = o.endpoint.substr(sep + 3);
  }
  const size_t slash = e.host.find('/');
  if (slash != std::string::npos) e.host.resize(slash);
  return e;
}

bool VirtualHosted(const S3Options& o, const std::string& bucket) {
  switch (o.addressing) {
    case S3Options::Addressing::kPath: return false;
    case S3Options::Addressing::kVirtualHosted: return true;
    case S3Options::Addressing::kAuto: break;
  }
  // Custom endpoints (MinIO, s3rver) are path-style; on AWS, buckets with dots cannot use TLS
  // virtual hosts.
  return o.endpoint.empty() && bucket.find('.') == std::string::npos;
}

std::string QueryString(const KeyValues& query) { return CanonicalQuery(query); }

bool Retryable(const HttpResponse& r) {
  if (r.transport_error) return true;
  if (r.status >= 500 || r.status == 429) return true;
  const std::string code = XmlText(r.body, "Code");
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError";
}

std::string Uri(const std::string& bucket, const std::string& key) { return "s3://" + bucket + "/" + key; }

/// An answer that says the signing keys expired (a HEAD's error has no body to say so).
bool ExpiredAnswer(const std::string& method, const std::string& session_token, const HttpResponse& r) {
  if (r.transport_error || (r.status != 400 && r.status != 403)) return false;
  const std::string code = XmlText(r.body, "Code");
  if (code == "ExpiredToken" || code == "ExpiredTokenException" || code == "TokenRefreshRequired" || code == "InvalidToken") return true;
  return method == "HEAD" && r.body.empty() && !session_token.empty();
}

std::string Attempts(int n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

}  // namespace

S3Client::S3Client(S3Options options) : options_(std::move(options)), http_(options_.max_connections) {
  const Endpoint ep = ParseEndpoint(options_);
  scheme_ = ep.scheme;
  host_ = ep.host;
  if (options_.anonymous) {
    credentials_ = nullptr;
  } else if (options_.credentials) {
    credentials_ = options_.credentials;
  } else if (!options_.access_key.empty()) {
    credentials_ = StaticCredentialsProvider({options_.access_key, options_.secret_key, options_.session_token, 0, "static"});
  }
}

S3Stats S3Client::stats() const { return {requests_.load(), retries_.load(), bytes_read_.load(), bytes_written_.load()}; }

Result<HttpResponse> S3Client::Attempt(const Call& call) {
  if (!credentials_) return Perform(call, nullptr);
  ASSIGN_OR_RETURN(AwsCredentials c, credentials_->Get());
  HttpResponse r = Perform(call, &c);
  if (!ExpiredAnswer(call.method, c.session_token, r)) return r;
  // The keys expired on the way (or were revoked): new ones, and this attempt once more.
  credentials_->Invalidate();
  ASSIGN_OR_RETURN(c, credentials_->Get());
  return Perform(call, &c);
}

HttpResponse S3Client::Perform(const Call& call, const AwsCredentials* creds) {
  const bool vhost = VirtualHosted(options_, call.bucket);
  const std::string host = vhost ? call.bucket + "." + host_ : host_;
  std::string path = vhost ? "/" : "/" + UriEncode(call.bucket, true) + (call.key.empty() && call.method != "PUT" ? "" : "/");
  path += UriEncode(call.key, false);
  if (path.empty()) path = "/";
  const std::string query = QueryString(call.query);

  HttpRequest req;
  req.method = call.method;
  req.url = scheme_ + "://" + host + path + (query.empty() ? "" : "?" + query);
  req.body = call.body;
  req.body_size = call.body_size;
  req.sink = call.sink;
  req.sink_capacity = call.sink_capacity;
  req.request_timeout_ms = options_.request_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  const std::string payload = call.body_size > 0 ? Sha256Hex(call.body, static_cast<size_t>(call.body_size)) : Sha256Hex("");
  if (creds == nullptr) {
    req.headers = call.headers;
    req.headers.emplace_back("x-amz-content-sha256", payload);
  } else {
    SigningInput in{call.method, host, path, call.query, call.headers, payload, options_.region, AmzDateNow()};
    Signature sig = SignV4(in, {creds->access_key, creds->secret_key, creds->session_token});
    for (auto& [k, v] : sig.headers) {
      if (k != "host") req.headers.emplace_back(k, v);
    }
    req.headers.emplace_back("Authorization", sig.authorization);
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  return http_.Perform(req);
}

void S3Client::Backoff(int attempt) const {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const int64_t cap = std::min<int64_t>(options_.retry_max_ms, int64_t{options_.retry_base_ms} << std::min(attempt, 20));
  std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(cap, 0));
  retries_.fetch_add(1, std::memory_order_relaxed);
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

Status S3Client::ErrorFor(const Call& call, const std::string& what, const HttpResponse& r, int attempts) const {
  std::string msg = "S3 " + what + " " + Uri(call.bucket, call.key) + ": ";
  if (r.transport_error) {
    msg += r.transport_message;
    if (r.status != 0) msg += " (HTTP " + std::to_string(r.status) + ")";
  } else {
    msg += "HTTP " + std::to_string(r.status);
    std::string code = XmlText(r.body, "Code");
    if (code.empty() && r.status == 404) code = call.key.empty() ? "NoSuchBucket" : "NoSuchKey";
    if (!code.empty()) msg += " " + code;
    const std::string text = XmlText(r.body, "Message");
    if (!text.empty()) msg += ": " + text;
  }
  msg += " (" + Attempts(attempts) + ")";
  if (r.status == 404) return Status::NotFound(msg);
  if (r.status == 400 || r.status == 403 || r.status == 405) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

Result<HttpResponse> S3Client::Send(const Call& call, const std::string& what) {
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(HttpResponse r, Attempt(call));
    const bool ok = !r.transport_error && r.status >= 200 && r.status < 300 && XmlElements(r.body, "Error").empty();
    if (ok) return r;
    if (!Retryable(r) || attempt >= options_.max_attempts) return ErrorFor(call, what, r, attempt);
    Backoff(attempt);
  }
}

Result<ObjectInfo> S3Client::Head(const std::string& bucket, const std::string& key) {
  ASSIGN_OR_RETURN(HttpResponse r, Send({"HEAD", bucket, key}, "HEAD"));
  auto it = r.headers.find("content-length");
  if (it == r.headers.end()) return Status::IOError("S3 HEAD " + Uri(bucket, key) + ": no Content-Length in the reply");
  const auto etag = r.headers.find("etag");
  return ObjectInfo{key, std::stoll(it->second), etag == r.headers.end() ? "" : etag->second};
}

Status S3Client::GetRange(const std::string& bucket, const std::string& key, int64_t offset, int64_t length, uint8_t* dest) {
  if (length == 0) return Status::OK();
  int64_t got = 0;
  for (int attempt = 1;; ++attempt) {
    Call call{"GET", bucket, key};
    const int64_t from = offset + got, to = offset + length - 1;
    call.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-" + std::to_string(to));
    call.sink = dest + got;
    call.sink_capacity = length - got;
    ASSIGN_OR_RETURN(HttpResponse r, Attempt(call));
    // The reply must start where we asked (Content-Range: bytes FROM-TO/SIZE).
    auto range = r.headers.find("content-range");
    const bool right_start = range == r.headers.end() || range->second.rfind("bytes " + std::to_string(from) + "-", 0) == 0;
    const bool partial_ok = (r.status == 206 && right_start) || (r.status == 200 && from == 0);
    if (partial_ok) got += r.sink_bytes;  // also after a cut-off body: resume from there
    if (!r.transport_error && partial_ok) {
      if (got == length) {
        bytes_read_.fetch_add(length, std::memory_order_relaxed);
        return Status::OK();
      }
      r.transport_error = true;
      r.transport_message = "the reply ended after " + std::to_string(got) + " of " + std::to_string(length) + " bytes";
    }
    const std::string what = "GET (bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) + ")";
    if (!r.transport_error && (r.status == 200 || (r.status == 206 && !right_start))) {
      return Status::IOError("S3 " + what + " " + Uri(bucket, key) + ": the server did not answer with the range asked for");
    }
    if (!Retryable(r) || attempt >= options_.max_attempts) return ErrorFor(call, what, r, attempt);
    Backoff(attempt);
  }
}

Result<ListPage> S3Client::List(const std::string& bucket, const std::string& prefix, const std::string& token, int max_keys) {
  Call call{"GET", bucket, ""};
  call.query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) call.query.emplace_back("prefix", prefix);
  if (!token.empty()) call.query.emplace_back("continuation-token", token);
  ASSIGN_OR_RETURN(HttpResponse r, Send(call, "LIST (prefix '" + prefix + "')"));
  ListPage page;
  for (std::string_view c : XmlElements(r.body, "Contents")) {
    ObjectInfo info{XmlText(c, "Key"), 0, XmlText(c, "ETag")};
    const std::string size = XmlText(c, "Size");
    if (!size.empty()) info.size = std::stoll(size);
    page.objects.push_back(std::move(info));
  }
  if (XmlText(r.body, "IsTruncated") == "true") {
    page.next_token = XmlText(r.body, "NextContinuationToken");
    if (page.next_token.empty()) {
      return Status::IOError("S3 LIST " + Uri(bucket, prefix) + ": a truncated listing without a continuation token");
    }
  }
  return page;
}

Status S3Client::Put(const std::string& bucket, const std::string& key, const uint8_t* data, int64_t size) {
  Call call{"PUT", bucket, key};
  call.body = data;
  call.body_size = size;
  RETURN_IF_ERROR(Send(call, "PUT"));
  bytes_written_.fetch_add(size, std::memory_order_relaxed);
  return Status::OK();
}

Status S3Client::Delete(const std::string& bucket, const std::string& key) {
  auto r = Send({"DELETE", bucket, key}, "DELETE");
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  return Status::OK();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket, const std::string& key) {
  Call call{"POST", bucket, key};
  call.query = {{"uploads", ""}};
  ASSIGN_OR_RETURN(HttpResponse r, Send(call, "CreateMultipartUpload"));
  std::string id = XmlText(r.body, "UploadId");
  if (id.empty()) return Status::IOError("S3 CreateMultipartUpload " + Uri(bucket, key) + ": no UploadId in the reply");
  return id;
}

Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                         int part_number, const uint8_t* data, int64_t size) {
  Call call{"PUT", bucket, key};
  call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  call.body = data;
  call.body_size = size;
  ASSIGN_OR_RETURN(HttpResponse r, Send(call, "UploadPart " + std::to_string(part_number)));
  auto it = r.headers.find("etag");
  if (it == r.headers.end()) return Status::IOError("S3 UploadPart " + Uri(bucket, key) + ": no ETag in the reply");
  bytes_written_.fetch_add(size, std::memory_order_relaxed);
  return it->second;
}

Status S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                         const std::vector<std::string>& etags, int64_t total_size) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(etags[i]) + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  Call call{"POST", bucket, key};
  call.query = {{"uploadId", upload_id}};
  call.body = reinterpret_cast<const uint8_t*>(body.data());
  call.body_size = static_cast<int64_t>(body.size());
  auto r = Send(call, "CompleteMultipartUpload");
  if (r.ok()) return Status::OK();
  // A retry after a completion whose reply was lost finds the upload gone (AWS: 404
  // NoSuchUpload; s3rver: 500): the object is there if it has the size we uploaded.
  {
    auto head = Head(bucket, key);
    if (head.ok() && head->size == total_size) return Status::OK();
  }
  return r.status();
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id) {
  Call call{"DELETE", bucket, key};
  call.query = {{"uploadId", upload_id}};
  auto r = Send(call, "AbortMultipartUpload");
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  return Status::OK();
}

}  // namespace sluice::s3
