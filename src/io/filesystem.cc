#include "sluice/filesystem.h"
#include "sluice/s3.h"

#include <algorithm>
#include <filesystem>

#include <sys/stat.h>

namespace sluice {
namespace {

namespace fs = std::filesystem;

class LocalOutput final : public OutputStream {
 public:
  explicit LocalOutput(std::unique_ptr<AtomicFileWriter> w) : w_(std::move(w)) {}
  Status Append(const void* data, int64_t size) override { return w_->Append(data, size); }
  int64_t bytes_written() const override { return w_->bytes_written(); }
  Status Commit() override { return w_->Commit(); }
  void Abort() override { w_->Abort(); }

 private:
  std::unique_ptr<AtomicFileWriter> w_;
};

/// The modification time in nanoseconds, as text ("" when it cannot be read).
std::string ModifiedVersion(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

class Local final : public FileSystem {
 public:
  Result<std::vector<FileInfo>> List(const std::string& prefix) override {
    const std::string dir = WithoutFileScheme(prefix);
    std::vector<FileInfo> out;
    std::error_code ec;
    if (fs::is_regular_file(dir, ec)) {
      out.push_back({dir, static_cast<int64_t>(fs::file_size(dir, ec)), ModifiedVersion(dir)});
      return out;
    }
    if (!fs::is_directory(dir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) out.push_back({it->path().string(), static_cast<int64_t>(it->file_size(ec)), ModifiedVersion(it->path().string())});
    }
    if (ec) return Status::IOError("listing '" + dir + "': " + ec.message());
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.uri < b.uri; });
    return out;
  }
  Result<std::shared_ptr<RandomAccessFile>> OpenForRead(const std::string& uri) override { return OpenLocalFile(WithoutFileScheme(uri)); }
  Result<std::unique_ptr<OutputStream>> OpenForWrite(const std::string& uri) override {
    const std::string path = WithoutFileScheme(uri);
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) return Status::IOError("cannot create directory '" + parent.string() + "': " + ec.message());
    ASSIGN_OR_RETURN(auto w, AtomicFileWriter::Open(path));
    return std::unique_ptr<OutputStream>(new LocalOutput(std::move(w)));
  }
  Result<bool> Exists(const std::string& uri) override {
    std::error_code ec;
    return fs::exists(WithoutFileScheme(uri), ec);
  }
  Status Delete(const std::string& uri) override {
    std::error_code ec;
    fs::remove(WithoutFileScheme(uri), ec);
    if (ec) return Status::IOError("deleting '" + uri + "': " + ec.message());
    return Status::OK();
  }
};

bool HasWildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

}  // namespace

std::string WithoutFileScheme(const std::string& uri) { return uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri; }

Result<std::shared_ptr<Buffer>> FileSystem::ReadWhole(const std::string& uri) {
  ASSIGN_OR_RETURN(auto f, OpenForRead(uri));
  ASSIGN_OR_RETURN(int64_t size, f->Size());
  return f->ReadAt(0, size);
}

std::shared_ptr<FileSystem> LocalFileSystem() {
  static std::shared_ptr<FileSystem> local = std::make_shared<Local>();
  return local;
}

Result<std::shared_ptr<FileSystem>> FileSystemFor(const std::string& uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string::npos || uri.rfind("file://", 0) == 0) return LocalFileSystem();
  const std::string scheme = uri.substr(0, scheme_end);
  if (scheme == "s3") return DefaultS3FileSystem();
  return Status::InvalidArgument("'" + uri + "': unknown scheme '" + scheme + "' (use a path, file:// or s3://)");
}

bool GlobMatch(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p.substr(0, 2) == "**") {
    // "**/" matches zero or more whole directories; a bare "**" matches anything.
    const bool dirs = p.size() > 2 && p[2] == '/';
    const std::string_view rest = p.substr(dirs ? 3 : 2);
    for (size_t i = 0; i <= s.size(); ++i) {
      if ((!dirs || i == 0 || s[i - 1] == '/') && GlobMatch(rest, s.substr(i))) return true;
    }
    return false;
  }
  if (p[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (GlobMatch(p.substr(1), s.substr(i))) return true;
      if (i < s.size() && s[i] == '/') break;  // '*' stays within one segment
    }
    return false;
  }
  if (s.empty()) return false;
  if (p[0] == '?' ? s[0] != '/' : p[0] == s[0]) return GlobMatch(p.substr(1), s.substr(1));
  return false;
}

Result<std::vector<FileInfo>> Glob(const std::string& uri_pattern) {
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri_pattern));
  // Local listings give plain paths: match them against the pattern without its scheme.
  const std::string pattern = fsys == LocalFileSystem() ? WithoutFileScheme(uri_pattern) : uri_pattern;
  if (!HasWildcard(pattern)) {
    ASSIGN_OR_RETURN(bool exists, fsys->Exists(pattern));
    if (!exists) return std::vector<FileInfo>{};
    return fsys->List(pattern);
  }
  // List from the deepest directory before the first wildcard, then match the full paths.
  const size_t wild = pattern.find_first_of("*?");
  const size_t slash = pattern.rfind('/', wild);
  const std::string base = slash == std::string::npos ? "." : pattern.substr(0, slash + 1);
  const std::string full_pattern = slash == std::string::npos ? "./" + pattern : pattern;
  ASSIGN_OR_RETURN(auto listed, fsys->List(base));
  std::vector<FileInfo> out;
  for (auto& f : listed) {
    if (GlobMatch(full_pattern, f.uri)) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace sluice
