#pragma once
/// Logging: the library never prints. It hands log lines to a sink the application installs
/// (the CLI installs one that writes to stderr); with no sink, lines are dropped.
///
/// Threading: Log and SetLogSink may be called from any thread; the sink is called under a
/// lock, one line at a time.

#include <functional>
#include <string_view>

namespace sluice {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
std::string_view LogLevelName(LogLevel level);

using LogSink = std::function<void(LogLevel, std::string_view)>;
void SetLogSink(LogSink sink);
void SetLogLevel(LogLevel min_level);
void Log(LogLevel level, std::string_view message);

}  // namespace sluice
