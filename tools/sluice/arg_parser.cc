#include "arg_parser.h"

#include <cstdio>
#include <stdexcept>

namespace sluice::cli {

ArgParser::ArgParser(std::string command, std::string description)
    : command_(std::move(command)), description_(std::move(description)) {}

void ArgParser::Int(const std::string& name, int64_t* value, std::string help) {
  flags_.push_back({name, std::move(help) + " (default " + std::to_string(*value) + ")", value, nullptr, nullptr});
}

void ArgParser::String(const std::string& name, std::string* value, std::string help) {
  std::string h = std::move(help);
  if (!value->empty()) h += " (default " + *value + ")";
  flags_.push_back({name, std::move(h), nullptr, value, nullptr});
}

void ArgParser::Repeated(const std::string& name, std::vector<std::string>* values, std::string help) {
  flags_.push_back({name, std::move(help) + " (repeatable)", nullptr, nullptr, values});
}

std::string ArgParser::Usage() const {
  std::string u = "usage: " + command_ + " [flags]\n" + description_ + "\n\nflags:\n";
  for (const auto& f : flags_) u += "  " + f.name + " VALUE\n      " + f.help + "\n";
  u += "  --help\n      show this help\n";
  return u;
}

int ArgParser::Fail(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n\n%s", command_.c_str(), message.c_str(), Usage().c_str());
  exit_code_ = 2;
  return exit_code_;
}

bool ArgParser::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    if (name == "--help" || name == "-h") {
      std::printf("%s", Usage().c_str());
      exit_code_ = 0;
      return false;
    }
    const auto eq = name.find('=');
    bool has_value = false;
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = nullptr;
    for (const auto& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) {
      Fail("unknown argument '" + args[i] + "'");
      return false;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        Fail("flag " + name + " needs a value");
        return false;
      }
      value = args[++i];
    }
    if (flag->int_value) {
      try {
        size_t used = 0;
        const long long v = std::stoll(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        *flag->int_value = v;
      } catch (const std::exception&) {
        Fail("flag " + name + " needs an integer, got '" + value + "'");
        return false;
      }
    } else if (flag->string_value) {
      *flag->string_value = value;
    } else {
      flag->repeated->push_back(value);
    }
  }
  return true;
}

}  // namespace sluice::cli
