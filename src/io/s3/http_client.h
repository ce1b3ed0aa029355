#pragma once
/// HttpClient: blocking HTTP/1.1 requests over libcurl with a pool of keep-alive handles (one
/// connection each), so parallel callers reuse connections instead of reconnecting. No
/// retries here: the S3 client decides what to retry.
///
/// Threading: Perform may be called from any number of threads at once; each call takes its
/// own handle from the pool.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::s3 {

struct HttpRequest {
  std::string method;  // GET HEAD PUT POST DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  const uint8_t* body = nullptr;
  int64_t body_size = 0;
  /// A 2xx response body goes here (up to `sink_capacity` bytes) instead of into `body`.
  uint8_t* sink = nullptr;
  int64_t sink_capacity = 0;
  int request_timeout_ms = 30000;  // no progress for this long fails the request
  int connect_timeout_ms = 5000;
};

struct HttpResponse {
  /// Set when no complete response arrived (reset, timeout, truncated body): worth a retry.
  bool transport_error = false;
  std::string transport_message;
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;          // error bodies, XML; 2xx bodies when no sink was given
  int64_t sink_bytes = 0;    // bytes written to the sink (also after a transport error)
};

class HttpClient {
 public:
  explicit HttpClient(int max_idle_handles);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Perform(const HttpRequest& request);

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  std::mutex mu_;
  std::vector<void*> idle_;
  size_t max_idle_;
};

}  // namespace sluice::s3
