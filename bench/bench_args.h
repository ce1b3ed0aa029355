#pragma once
// Tiny "--name=value" reader shared by the bench programs.
#include <cstdlib>
#include <cstring>
#include <string>

namespace sluice::bench {

/// The text after "--name=" in argv, or `fallback`.
inline std::string StringArg(int argc, char** argv, const char* name, const char* fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

/// The integer after "--name=" in argv, or `fallback`.
inline long long IntArg(int argc, char** argv, const char* name, long long fallback) {
  const std::string v = StringArg(argc, argv, name, "");
  return v.empty() ? fallback : std::atoll(v.c_str());
}

}  // namespace sluice::bench
