#pragma once
/// ChildProcess: a test peer (s3rver, the fault proxy) started by a test. It is spawned with
/// pipes on stdin and stdout; the peer prints one line `{"port":N}` when it listens and exits
/// when its stdin closes, so a crashed test never leaves a server behind.
///
/// Threading: one thread.

#include <sys/types.h>

#include <string>
#include <vector>

namespace sluice::testing {

class ChildProcess {
 public:
  /// Starts argv[0] (searched in PATH) and waits up to `timeout_s` for its port line. On
  /// failure port() is 0 and error() says why.
  ChildProcess(std::vector<std::string> argv, int timeout_s = 60);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int port() const { return port_; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string error_;
};

/// The node executable and the repository root, for starting the peers under tests/.
std::string NodePath();

}  // namespace sluice::testing
