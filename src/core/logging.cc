#include "sluice/logging.h"

#include <atomic>
#include <mutex>

namespace sluice {
namespace {

std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}
LogSink& Sink() {
  static LogSink sink;
  return sink;
}
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

void SetLogSink(LogSink sink) {
  std::lock_guard lock(SinkMutex());
  Sink() = std::move(sink);
}

void SetLogLevel(LogLevel min_level) { g_min_level = static_cast<int>(min_level); }

void Log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) < g_min_level) return;
  std::lock_guard lock(SinkMutex());
  if (Sink()) Sink()(level, message);
}

}  // namespace sluice
