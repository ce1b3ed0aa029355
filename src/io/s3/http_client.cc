#include "io/s3/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace sluice::s3 {
namespace {

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  int64_t sent = 0;
  bool overflow = false;
};

bool Success(CURL* curl) {
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code >= 200 && code < 300;
}

size_t OnBody(char* data, size_t, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->sink != nullptr && Success(t->curl)) {
    HttpResponse& r = *t->response;
    if (r.sink_bytes + static_cast<int64_t>(n) > t->request->sink_capacity) {
      // The server sends more than the range asked for (s3rver answers bytes=0-0 with the
      // whole object): keep what fits and stop the transfer.
      const int64_t fits = t->request->sink_capacity - r.sink_bytes;
      std::memcpy(t->request->sink + r.sink_bytes, data, static_cast<size_t>(fits));
      r.sink_bytes += fits;
      t->overflow = true;
      return 0;
    }
    std::memcpy(t->request->sink + r.sink_bytes, data, n);
    r.sink_bytes += static_cast<int64_t>(n);
  } else {
    t->response->body.append(data, n);
  }
  return n;
}

size_t OnHeader(char* data, size_t, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after 100-continue)
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value = line.substr(colon + 1);
  const size_t b = value.find_first_not_of(" \t");
  const size_t e = value.find_last_not_of(" \t\r\n");
  t->response->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  return n;
}

size_t OnUpload(char* out, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const int64_t n = std::min<int64_t>(static_cast<int64_t>(size * nitems), t->request->body_size - t->sent);
  if (n > 0) std::memcpy(out, t->request->body + t->sent, static_cast<size_t>(n));
  t->sent += n;
  return static_cast<size_t>(n);
}

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

HttpClient::HttpClient(int max_idle_handles) : max_idle_(static_cast<size_t>(std::max(1, max_idle_handles))) {
  static GlobalInit init;
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::TakeHandle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReturnHandle(void* handle) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

HttpResponse HttpClient::Perform(const HttpRequest& req) {
  HttpResponse resp;
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) {
    resp.transport_error = true;
    resp.transport_message = "curl_easy_init failed";
    return resp;
  }
  curl_easy_reset(curl);  // keeps the connection cache, clears options of the last request
  Transfer t{&req, &resp, curl};
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_ms));
  // A stall (no byte for request_timeout) fails the request; long transfers that move are fine.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(req.request_timeout_ms / 1000)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    if (req.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (req.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // No "Expect: 100-continue" round trip before bodies; no Accept/Content-Type guesses.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Accept:");
  if (req.method == "PUT" || req.method == "POST") headers = curl_slist_append(headers, "Content-Type:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    resp.transport_error = !t.overflow;  // a full sink is a complete answer
    resp.transport_message = curl_easy_strerror(rc);
    curl_easy_cleanup(curl);  // the connection is in an unknown state
    return resp;
  }
  ReturnHandle(curl);
  return resp;
}

}  // namespace sluice::s3
