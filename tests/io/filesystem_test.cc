// The local FileSystem and globbing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "sluice/filesystem.h"
#include "sluice/parquet.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

/// A directory tree of its own per test: ctest runs tests as parallel processes.
std::string MakeTree() {
  const std::string root = ::testing::TempDir() + "fs_tree_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(root);
  for (const char* f : {"a.parquet", "b.parquet", "notes.txt", "date=2024-01-01/c.parquet", "date=2024-01-02/d.parquet",
                        "date=2024-01-02/deep/e.parquet"}) {
    fs::create_directories(fs::path(root + "/" + f).parent_path());
    std::ofstream(root + "/" + f) << f;
  }
  return root;
}

std::vector<std::string> Names(const std::vector<FileInfo>& files, const std::string& root) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.uri.substr(root.size() + 1));
  return out;
}

TEST(GlobTest, MatchRules) {
  EXPECT_TRUE(GlobMatch("d/*.parquet", "d/a.parquet"));
  EXPECT_FALSE(GlobMatch("d/*.parquet", "d/x/a.parquet"));
  EXPECT_TRUE(GlobMatch("d/**/*.parquet", "d/a.parquet"));
  EXPECT_TRUE(GlobMatch("d/**/*.parquet", "d/x/y/a.parquet"));
  EXPECT_TRUE(GlobMatch("d/?.parquet", "d/a.parquet"));
  EXPECT_FALSE(GlobMatch("d/?.parquet", "d/ab.parquet"));
  EXPECT_FALSE(GlobMatch("d/*", "d/x/y"));
  EXPECT_TRUE(GlobMatch("d/**", "d/x/y"));
  EXPECT_TRUE(GlobMatch("d/date=*/*.parquet", "d/date=2024-01-01/c.parquet"));
}

TEST(FileSystemTest, ListGlobReadWriteDelete) {
  const std::string root = MakeTree();
  auto local = LocalFileSystem();
  auto all = local->List(root).value();
  EXPECT_EQ(all.size(), 6u);
  EXPECT_EQ(Names(Glob(root + "/*.parquet").value(), root), (std::vector<std::string>{"a.parquet", "b.parquet"}));
  EXPECT_EQ(Names(Glob(root + "/**/*.parquet").value(), root),
            (std::vector<std::string>{"a.parquet", "b.parquet", "date=2024-01-01/c.parquet", "date=2024-01-02/d.parquet",
                                      "date=2024-01-02/deep/e.parquet"}));
  EXPECT_EQ(Names(Glob("file://" + root + "/date=*/*.parquet").value(), root),
            (std::vector<std::string>{"date=2024-01-01/c.parquet", "date=2024-01-02/d.parquet"}));
  EXPECT_EQ(Glob(root + "/a.parquet").value().size(), 1u);
  EXPECT_TRUE(Glob(root + "/missing*.parquet").value().empty());
  EXPECT_TRUE(Glob(root + "/missing.parquet").value().empty());
  auto bytes = local->ReadWhole(root + "/notes.txt").value();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes->data()), static_cast<size_t>(bytes->size())), "notes.txt");

  // Writes appear only at Commit; Abort leaves nothing; parent directories are created.
  const std::string out = root + "/new/dir/out.bin";
  auto w = local->OpenForWrite("file://" + out).value();
  ASSERT_TRUE(w->Append("abc", 3).ok());
  EXPECT_FALSE(local->Exists(out).value());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_TRUE(local->Exists(out).value());
  auto aborted = local->OpenForWrite(root + "/aborted.bin").value();
  ASSERT_TRUE(aborted->Append("x", 1).ok());
  aborted->Abort();
  EXPECT_FALSE(local->Exists(root + "/aborted.bin").value());
  EXPECT_EQ(local->List(root + "/new").value().size(), 1u);
  ASSERT_TRUE(local->Delete(out).ok());
  EXPECT_TRUE(local->Delete(out).ok());  // already gone: fine
  EXPECT_FALSE(local->Exists(out).value());
}

TEST(FileSystemTest, AFifoOrDeviceIsRefusedNotWaitedOn) {
  // Opening a FIFO for reading blocks until a writer comes: a stuck input, never an answer.
  const std::string root = MakeTree();
  const std::string fifo = root + "/pipe.parquet";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto opened = LocalFileSystem()->OpenForRead(fifo);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("'" + fifo + "' is not a regular file"), std::string::npos) << opened.status().ToString();
  EXPECT_FALSE(LocalFileSystem()->OpenForRead("/dev/zero").ok());
}

TEST(FileSystemTest, SchemesAndParquetThroughUris) {
  EXPECT_TRUE(FileSystemFor("s3://bucket/key").ok());  // the S3 filesystem (s3_test.cc)
  EXPECT_NE(FileSystemFor("gs://bucket/key").status().message().find("unknown scheme 'gs'"), std::string::npos);
  const std::string root = MakeTree();
  const std::string uri = "file://" + root + "/written/x.parquet";
  auto w = ParquetWriter::Open(uri).value();
  ASSERT_TRUE(w->Write(Batch::Make({"id"}, {Column::FromValues<int64_t>({1, 2, 3})}).value()).ok());
  ASSERT_TRUE(w->Close().ok());
  auto f = LocalFileSystem()->OpenForRead(uri).value();
  EXPECT_EQ(ParquetReader::Open(f).value()->num_rows(), 3);
}

}  // namespace
}  // namespace sluice
