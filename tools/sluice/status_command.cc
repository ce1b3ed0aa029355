#include "status_command.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "arg_parser.h"
#include "sluice/job.h"

namespace sluice::cli {

int RunStatus(const std::vector<std::string>& all_args) {
  std::vector<std::string> args;
  std::string uri;
  bool json = false, wait = false;
  for (const auto& a : all_args) {
    if (a == "--json") {
      json = true;
    } else if (a == "--wait") {
      wait = true;
    } else if (a.rfind("--", 0) != 0 && uri.empty()) {
      uri = a;
    } else {
      args.push_back(a);
    }
  }
  ArgParser p("sluice status OUTPUT_URI",
              "Prints a job's progress from its output alone (a directory or s3:// prefix), while it runs and after: shards and rows "
              "published, bad rows, shards in progress, each worker's state, throughput and last activity, stragglers, and whether "
              "the job is complete. Exit status 0 when complete, 3 when not (yet).\n"
              "  --json                 one JSON object instead of text\n"
              "  --wait                 print again every --interval seconds until the job is complete");
  int64_t interval = 10;
  p.Int("--interval", &interval, "seconds between prints with --wait (default 10)");
  if (!p.Parse(args)) return p.exit_code();
  if (uri.empty()) return p.Fail("needs the job's output.uri");
  while (true) {
    bool complete = false;
    auto text = DescribeJobOutput(uri, json, &complete);
    if (!text.ok()) {
      std::fprintf(stderr, "sluice status: %s\n", text.status().ToString().c_str());
      return text.status().IsUserError() ? 2 : 1;
    }
    std::fputs(text->c_str(), stdout);
    std::fflush(stdout);
    if (complete) return 0;
    if (!wait) return 3;
    std::this_thread::sleep_for(std::chrono::seconds(std::max<int64_t>(1, interval)));
  }
}

}  // namespace sluice::cli
