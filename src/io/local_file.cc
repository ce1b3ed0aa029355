#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "sluice/random_access_file.h"

namespace sluice {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

class LocalRandomAccessFile final : public RandomAccessFile {
 public:
  LocalRandomAccessFile(std::string path, int fd, int64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~LocalRandomAccessFile() override { ::close(fd_); }

  Result<std::shared_ptr<Buffer>> ReadAt(int64_t offset, int64_t length) override {
    if (offset < 0 || length < 0 || offset > size_ || length > size_ - offset) {
      return Status::InvalidData("read of " + std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                                 " is past the end of '" + path_ + "' (" + std::to_string(size_) + " bytes)");
    }
    ASSIGN_OR_RETURN(auto buffer, HostAllocator()->Allocate(length));
    int64_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, buffer->data() + done, static_cast<size_t>(length - done), offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError("reading '" + path_ + "' at offset " + std::to_string(offset + done) + ": " + ErrnoText(errno));
      if (n == 0) {
        return Status::IOError("'" + path_ + "' ended at " + std::to_string(offset + done) + " while reading " +
                               std::to_string(length) + " bytes at " + std::to_string(offset) + " (was it truncated?)");
      }
      done += n;
    }
    return buffer;
  }
  Result<int64_t> Size() override { return size_; }
  const std::string& name() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  int64_t size_;
};

}  // namespace

Result<std::shared_ptr<RandomAccessFile>> OpenLocalFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO or a device would otherwise wait for a writer forever before
  // the check below could refuse it; reads of regular files ignore the flag.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("no such file '" + path + "'");
    return Status::IOError("cannot open '" + path + "': " + ErrnoText(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("'" + path + "' is not a regular file");
  }
  return std::shared_ptr<RandomAccessFile>(std::make_shared<LocalRandomAccessFile>(path, fd, st.st_size));
}

const std::string& AtomicFileWriter::HostTag() {
  static const std::string tag = [] {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "unknown");
    for (char* c = host; *c; ++c) {
      if (*c == '/') *c = '_';
    }
    return std::string(host);
  }();
  return tag;
}

bool AtomicFileWriter::IsTempOfGoneLocalProcess(const std::string& name) {
  // ".<name>.tmp-<host>-<pid>-<n>": host may hold '-', so pid and n are read from the end.
  const size_t tmp = name.rfind(".tmp-");
  const size_t last = name.rfind('-');
  if (tmp == std::string::npos || last == std::string::npos || last <= tmp + 5) return false;
  const size_t pid_dash = name.rfind('-', last - 1);
  if (pid_dash == std::string::npos || pid_dash < tmp + 5) return false;
  if (name.compare(tmp + 5, pid_dash - (tmp + 5), HostTag()) != 0) return false;  // another host's (or an older name)
  const long pid = std::strtol(name.c_str() + pid_dash + 1, nullptr, 10);
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

Result<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Open(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return Status::InvalidArgument("'" + path + "' names a directory, not a file");
  static const std::string tag = HostTag() + "-" + std::to_string(::getpid());
  const std::string temp = (slash == std::string::npos ? std::string() : dir) + "." + base + ".tmp-" + tag + "-" +
                           std::to_string(counter.fetch_add(1));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create '" + temp + "' (for '" + path + "'): " + ErrnoText(errno));
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, temp, fd));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!done_) Abort();
}

Status AtomicFileWriter::Append(const void* data, int64_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  int64_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, p + done, static_cast<size_t>(size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("writing '" + temp_ + "': " + ErrnoText(errno));
    done += n;
  }
  written_ += size;
  return Status::OK();
}

Status AtomicFileWriter::Commit() {
  if (done_) return Status::Internal("AtomicFileWriter::Commit called twice for '" + path_ + "'");
  if (::fsync(fd_) != 0) return Status::IOError("fsync of '" + temp_ + "': " + ErrnoText(errno));
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    done_ = true;
    return Status::IOError("renaming '" + temp_ + "' to '" + path_ + "': " + ErrnoText(err));
  }
  done_ = true;
  const auto slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // make the rename durable; a failure here does not undo the publish
    ::close(dfd);
  }
  return Status::OK();
}

void AtomicFileWriter::Abort() {
  if (done_) return;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
  done_ = true;
}

}  // namespace sluice
