// The S3 filesystem against a real S3 server (s3rver from npm, started here on 127.0.0.1),
// directly and through a fault-injecting proxy (tests/io/s3/fault_proxy.mjs).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "io/s3/http_client.h"
#include "sluice/parquet.h"
#include "sluice/s3.h"
#include "support/child_process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;

constexpr const char* kSecret = "s3cr3t-never-printed";

std::string Peer(const std::string& script) { return std::string(SLUICE_SOURCE_DIR) + "/tests/io/s3/" + script; }

std::vector<uint8_t> RandomBytes(int64_t n, uint64_t seed) {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < out.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, out.size() - i));
  }
  return out;
}

/// One s3rver for the whole suite (buckets "test" and "faults"), with a fault proxy in front.
class S3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = ::testing::TempDir() + "s3rver_" + std::to_string(getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    server_ = new ChildProcess({testing::NodePath(), Peer("start_s3rver.mjs"), "--dir", dir, "--bucket", "test", "--bucket", "faults"});
    if (server_->port() != 0) {
      proxy_ = new ChildProcess({testing::NodePath(), Peer("fault_proxy.mjs"), "--target",
                                 "http://127.0.0.1:" + std::to_string(server_->port()), "--seed", "7", "--stall-ms", "3000"});
    }
  }
  static void TearDownTestSuite() {
    delete proxy_;
    delete server_;
    proxy_ = server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_->port(), 0) << server_->error();
    if (proxy_->port() != 0) Proxy("POST", kNoFaults);  // a failed test may have left faults on
  }
  static constexpr const char* kNoFaults = "/__proxy/rates?503=0&slowdown=0&reset=0&stall=0&truncate=0";

  static S3Options Options(int port) {
    S3Options o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.access_key = "S3RVER";  // s3rver checks the key id (not the signature)
    o.secret_key = kSecret;
    o.part_size = 1 << 20;
    o.multipart_threshold = 2 << 20;
    o.retry_base_ms = 5;
    o.retry_max_ms = 50;
    o.request_timeout_ms = 1000;
    return o;
  }
  static std::shared_ptr<S3FileSystem> Direct() { return MakeS3FileSystem(Options(server_->port())).value(); }

  static Status Write(FileSystem& fsys, const std::string& uri, const std::vector<uint8_t>& bytes, int64_t piece = 300'000) {
    ASSIGN_OR_RETURN(auto out, fsys.OpenForWrite(uri));
    for (int64_t at = 0; at < static_cast<int64_t>(bytes.size()); at += piece) {
      RETURN_IF_ERROR(out->Append(bytes.data() + at, std::min<int64_t>(piece, static_cast<int64_t>(bytes.size()) - at)));
    }
    return out->Commit();
  }

  /// Sets the proxy's fault rates ("503=0.2,reset=0.1") and returns its counters as JSON.
  static std::string Proxy(const std::string& method, const std::string& path) {
    s3::HttpClient http(1);
    s3::HttpRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(proxy_->port()) + path;
    return http.Perform(req).body;
  }

  static ChildProcess* server_;
  static ChildProcess* proxy_;
};
ChildProcess* S3Test::server_ = nullptr;
ChildProcess* S3Test::proxy_ = nullptr;

TEST_F(S3Test, RangedReadsAtOddOffsets) {
  auto s3 = Direct();
  const auto bytes = RandomBytes(3'500'001, 1);
  ASSERT_TRUE(Write(*s3, "s3://test/ranges/blob.bin", bytes).ok());
  auto file = s3->OpenForRead("s3://test/ranges/blob.bin").value();
  EXPECT_EQ(file->Size().value(), 3'500'001);
  for (auto [off, len] : std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 1}, {7, 0}, {12345, 99999}, {1048575, 2},
                                                                   {999'999, 2'500'002}, {3'500'000, 1}, {0, 3'500'001}}) {
    auto got = file->ReadAt(off, len);
    ASSERT_TRUE(got.ok()) << off << "+" << len << ": " << got.status().ToString();
    ASSERT_EQ((*got)->size(), len);
    EXPECT_EQ(0, std::memcmp((*got)->data(), bytes.data() + off, static_cast<size_t>(len))) << off << "+" << len;
  }
  auto past = file->ReadAt(3'500'000, 2);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.status().message().find("s3://test/ranges/blob.bin"), std::string::npos);
}

TEST_F(S3Test, SequentialReadsUseTheReadAheadWindow) {
  auto s3 = Direct();
  const auto bytes = RandomBytes(6'000'000, 2);
  ASSERT_TRUE(Write(*s3, "s3://test/seq.bin", bytes).ok());
  {
    auto file = s3->OpenForRead("s3://test/seq.bin").value();
    for (int64_t at = 0; at < 6'000'000; at += 250'000) {
      auto got = file->ReadAt(at, 250'000).value();
      ASSERT_EQ(0, std::memcmp(got->data(), bytes.data() + at, 250'000)) << at;
      EXPECT_LE(ReadAheadBytesInFlight(), 8 << 20);
    }
  }
  EXPECT_EQ(ReadAheadBytesInFlight(), 0);  // dropped with the file
}

TEST_F(S3Test, ListingOverAThousandKeysAcrossPagesAndGlobs) {
  auto s3 = Direct();
  std::vector<std::jthread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < 1234; i += 8) {
        const std::string uri = "s3://test/many/d" + std::to_string(i % 3) + "/x" + std::to_string(i) + ".bin";
        ASSERT_TRUE(Write(*s3, uri, std::vector<uint8_t>(static_cast<size_t>(i % 17), 1)).ok());
      }
    });
  }
  writers.clear();
  auto all = s3->List("s3://test/many/").value();
  ASSERT_EQ(all.size(), 1234u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.uri < b.uri; }));
  for (const auto& f : all) {
    const int i = std::atoi(f.uri.substr(f.uri.rfind("/x") + 2).c_str());
    EXPECT_EQ(f.size, i % 17) << f.uri;
  }
  EXPECT_GE(s3->stats().requests, 1234 + 2);  // at least two list pages
  // Globs go through FileSystemFor("s3://..."), configured from the environment.
  setenv("AWS_ENDPOINT_URL_S3", ("http://127.0.0.1:" + std::to_string(server_->port())).c_str(), 1);
  setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  EXPECT_EQ(Glob("s3://test/many/d1/*.bin").value().size(), 411u);
  EXPECT_EQ(Glob("s3://test/many/**/x1?.bin").value().size(), 10u);
  EXPECT_EQ(Glob("s3://test/many/d?/x100.bin").value().size(), 1u);
  EXPECT_EQ(Glob("s3://test/many/d0/x3.bin").value().size(), 1u);
  EXPECT_TRUE(Glob("s3://test/many/*.parquet").value().empty());
}

TEST_F(S3Test, KeysWithSpecialCharactersRoundTrip) {
  auto s3 = Direct();
  const std::string key = "s3://test/special/date=2024-01-01/a b+c~(1)!'*%é.bin";
  ASSERT_TRUE(Write(*s3, key, {1, 2, 3}).ok());
  auto listed = s3->List("s3://test/special/").value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].uri, key);
  EXPECT_EQ(s3->ReadWhole(key).value()->size(), 3);
  EXPECT_TRUE(s3->Exists("s3://test/special/date=2024-01-01").value());  // a "directory"
  ASSERT_TRUE(s3->Delete(key).ok());
  EXPECT_FALSE(s3->Exists(key).value());
}

TEST_F(S3Test, MultipartUploadOfALargeObject) {
  S3Options o = Options(server_->port());
  o.part_size = 8 << 20;
  o.multipart_threshold = 16 << 20;
  auto s3 = MakeS3FileSystem(o).value();
  const auto bytes = RandomBytes(70'000'000, 3);
  ASSERT_TRUE(Write(*s3, "s3://test/big.bin", bytes, 4 << 20).ok());
  const S3Stats after_write = s3->stats();
  EXPECT_GE(after_write.requests, 1 + 9 + 1);  // create, 9 parts, complete
  auto back = s3->ReadWhole("s3://test/big.bin").value();
  ASSERT_EQ(back->size(), 70'000'000);
  EXPECT_EQ(0, std::memcmp(back->data(), bytes.data(), bytes.size()));
}

TEST_F(S3Test, AbortedWritesLeaveNothing) {
  auto s3 = Direct();
  for (int64_t size : {1000, 5'000'000}) {  // one PUT, multipart
    const std::string uri = "s3://test/aborted" + std::to_string(size);
    auto out = s3->OpenForWrite(uri).value();
    const auto bytes = RandomBytes(size, 4);
    ASSERT_TRUE(out->Append(bytes.data(), size).ok());
    out->Abort();
    EXPECT_FALSE(s3->Exists(uri).value()) << uri;
  }
}

// No credentials: unsigned requests, as for a public bucket (s3rver serves them).
TEST_F(S3Test, AnonymousAccess) {
  ASSERT_TRUE(Write(*Direct(), "s3://test/public/a.bin", {7, 8, 9}).ok());
  S3Options o = Options(server_->port());
  o.access_key.clear();
  o.secret_key.clear();
  auto anonymous = MakeS3FileSystem(o).value();
  auto bytes = anonymous->ReadWhole("s3://test/public/a.bin");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ((*bytes)->size(), 3);
  EXPECT_EQ(anonymous->List("s3://test/public/").value().size(), 1u);
}

TEST_F(S3Test, MissingKeyAndBucketAreClearErrors) {
  auto s3 = Direct();
  auto key = s3->OpenForRead("s3://test/no/such.parquet").value()->Size();
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  EXPECT_NE(key.status().message().find("s3://test/no/such.parquet"), std::string::npos) << key.status().ToString();
  EXPECT_NE(key.status().message().find("HTTP 404"), std::string::npos) << key.status().ToString();
  auto bucket = s3->OpenForRead("s3://nobucket/a.parquet").value()->Size();
  ASSERT_FALSE(bucket.ok());
  EXPECT_NE(bucket.status().message().find("NoSuchBucket"), std::string::npos) << bucket.status().ToString();
  auto listing = s3->List("s3://nobucket/x/");
  ASSERT_FALSE(listing.ok());
  EXPECT_NE(listing.status().message().find("NoSuchBucket"), std::string::npos) << listing.status().ToString();
  for (const Status& st : {key.status(), bucket.status(), listing.status()}) {
    EXPECT_EQ(st.message().find(kSecret), std::string::npos);
  }
}

TEST_F(S3Test, ParquetThroughS3Uris) {
  setenv("AWS_ENDPOINT_URL_S3", ("http://127.0.0.1:" + std::to_string(server_->port())).c_str(), 1);
  setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  std::vector<int64_t> ids(5000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i * 7);
  Batch batch = Batch::Make({"id"}, {Column::FromValues(ids)}).value();
  auto writer = ParquetWriter::Open("s3://test/parquet/part-0.parquet").value();
  ASSERT_TRUE(writer->Write(batch).ok());
  ASSERT_TRUE(writer->Close().ok());
  auto fsys = FileSystemFor("s3://test/parquet/part-0.parquet").value();
  auto reader = ParquetReader::Open(fsys->OpenForRead("s3://test/parquet/part-0.parquet").value()).value();
  EXPECT_TRUE(reader->ReadRowGroup(0).value().Equals(batch));
}

// Faults between sluice and the server: every read byte-identical, every write complete, and
// no operation takes more attempts than allowed.
TEST_F(S3Test, FaultsAreRetriedWithinTheBound) {
  ASSERT_NE(proxy_->port(), 0) << proxy_->error();
  S3Options o = Options(proxy_->port());
  o.max_attempts = 12;
  auto s3 = MakeS3FileSystem(o).value();
  Proxy("POST", "/__proxy/rates?503=0.1&slowdown=0.05&reset=0.05&stall=0.02&truncate=0.08");
  std::vector<std::vector<uint8_t>> objects;
  for (int i = 0; i < 6; ++i) {
    objects.push_back(RandomBytes(i % 2 ? 3'300'000 : 200'000 + i, 10 + static_cast<uint64_t>(i)));  // multipart and single PUTs
    const std::string uri = "s3://faults/obj" + std::to_string(i);
    Status st = Write(*s3, uri, objects.back());
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 6; ++i) {
      auto file = s3->OpenForRead("s3://faults/obj" + std::to_string(i)).value();
      auto got = file->ReadAt(0, static_cast<int64_t>(objects[static_cast<size_t>(i)].size()));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(0, std::memcmp((*got)->data(), objects[static_cast<size_t>(i)].data(), objects[static_cast<size_t>(i)].size()));
    }
  }
  auto listed = s3->List("s3://faults/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 6u);
  // Every kind of fault happened, and was survived.
  const std::string stats = Proxy("GET", "/__proxy/stats");
  RecordProperty("proxy_stats", stats);
  for (const char* kind : {"\"503\":", "\"slowdown\":", "\"reset\":", "\"stall\":", "\"truncate\":"}) {
    const size_t at = stats.find(kind);
    ASSERT_NE(at, std::string::npos) << stats;
    EXPECT_NE(stats[at + std::strlen(kind)], '0') << kind << " never injected: " << stats;
  }
  EXPECT_GT(s3->stats().retries, 0) << stats;
  Proxy("POST", "/__proxy/rates?503=0&slowdown=0&reset=0&stall=0&truncate=0");
}

TEST_F(S3Test, AttemptsStopAtTheBound) {
  ASSERT_NE(proxy_->port(), 0) << proxy_->error();
  S3Options o = Options(proxy_->port());
  o.max_attempts = 4;
  auto s3 = MakeS3FileSystem(o).value();
  ASSERT_TRUE(Write(*Direct(), "s3://faults/bound.bin", {1, 2, 3}).ok());
  Proxy("POST", "/__proxy/rates?503=1&slowdown=0&reset=0&stall=0&truncate=0");
  auto got = s3->ReadWhole("s3://faults/bound.bin");
  Proxy("POST", "/__proxy/rates?503=0");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(s3->stats().requests, 4);
  EXPECT_NE(got.status().message().find("HTTP 503"), std::string::npos) << got.status().ToString();
  EXPECT_NE(got.status().message().find("4 attempts"), std::string::npos) << got.status().ToString();
  EXPECT_NE(got.status().message().find("s3://faults/bound.bin"), std::string::npos) << got.status().ToString();
  // A 4xx other than 429 is not retried.
  auto missing = s3->OpenForRead("s3://faults/missing").value()->Size();
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s3->stats().requests, 4 + 2);  // HEAD, then the bucket check
}

}  // namespace
}  // namespace sluice
