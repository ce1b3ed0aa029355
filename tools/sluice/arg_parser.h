#pragma once
/// A small flag parser for the CLI's subcommands: `--name value` or `--name=value`, `--help`.
///
/// Threading: one thread.

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::cli {

class ArgParser {
 public:
  ArgParser(std::string command, std::string description);
  void Int(const std::string& name, int64_t* value, std::string help);
  void String(const std::string& name, std::string* value, std::string help);
  /// Multiple occurrences collect into `values`.
  void Repeated(const std::string& name, std::vector<std::string>* values, std::string help);
  /// Fills the registered values; false on --help or an error (then exit_code() says how to exit).
  bool Parse(const std::vector<std::string>& args);
  int exit_code() const { return exit_code_; }
  /// Prints "command: message" and the usage to stderr; returns the exit code for bad usage.
  int Fail(const std::string& message);
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    int64_t* int_value = nullptr;
    std::string* string_value = nullptr;
    std::vector<std::string>* repeated = nullptr;
  };
  std::string command_;
  std::string description_;
  std::vector<Flag> flags_;
  int exit_code_ = 0;
};

}  // namespace sluice::cli
