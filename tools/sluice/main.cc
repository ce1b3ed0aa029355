// sluice: the command-line tool. Thin: parses arguments and calls the library.
#include <cstdio>
#include <string>
#include <vector>

#include "datagen_command.h"
#include "demo_command.h"
#include "parquet_command.h"
#include "report_command.h"
#include "s3_command.h"
#include "status_command.h"
#include "preprocess_command.h"
#include "run_command.h"
#include "sluice/logging.h"

namespace {

constexpr const char* kUsage =
    "usage: sluice <command> [flags]\n"
    "\n"
    "commands:\n"
    "  datagen    write benchmark datasets: jpeg (real photographs) or raw (256x256x3) Parquet shards\n"
    "  demo       run a streaming pipeline on synthetic images, with live progress and stats\n"
    "  parquet    inspect, cat (JSON Lines) and copy Parquet files\n"
    "  preprocess write the tensor a model would see for an image (.npy)\n"
    "  run        run a batch inference job from a job file (resumable, exactly-once output)\n"
    "  status     a job's progress from its output alone (shards, rows, workers, stragglers)\n"
    "  report     an HTML report of a whole job from its output (workers over time, stragglers)\n"
    "  s3         s3 credentials: which AWS credentials sluice finds here, and from where\n"
    "  version    print the version\n"
    "  help       show this help\n"
    "\n"
    "Run 'sluice <command> --help' for a command's flags.\n";

void InstallStderrLogSink() {
  sluice::SetLogSink([](sluice::LogLevel level, std::string_view message) {
    std::fprintf(stderr, "[%s] %.*s\n", std::string(sluice::LogLevelName(level)).c_str(),
                 static_cast<int>(message.size()), message.data());
  });
}

}  // namespace

int main(int argc, char** argv) {
  InstallStderrLogSink();
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "demo") return sluice::cli::RunDemo(args);
  if (command == "datagen") return sluice::cli::RunDatagen(args);
  if (command == "parquet") return sluice::cli::RunParquet(args);
  if (command == "preprocess") return sluice::cli::RunPreprocess(args);
  if (command == "run") return sluice::cli::RunJobCommand(args);
  if (command == "status") return sluice::cli::RunStatus(args);
  if (command == "report") return sluice::cli::RunReport(args);
  if (command == "s3") return sluice::cli::RunS3(args);
  if (command == "version" || command == "--version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "sluice: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
