#include "report_command.h"

#include <cstdio>

#include "arg_parser.h"
#include "sluice/report.h"

namespace sluice::cli {

int RunReport(const std::vector<std::string>& all_args) {
  std::vector<std::string> args;
  std::string uri;
  for (const auto& a : all_args) {
    if (a.rfind("--", 0) != 0 && uri.empty() && (args.empty() || args.back() != "--out")) {
      uri = a;
    } else {
      args.push_back(a);
    }
  }
  ArgParser p("sluice report OUTPUT_URI",
              "Writes one HTML report for a whole job from its output (a directory or s3:// prefix): shards and rows published, "
              "every worker's rows over time, rows/s and state, the stragglers, the manifest. Works while the job runs and after. "
              "For one run's stage timelines, use `sluice run JOB.yaml --report FILE`.");
  std::string out = "job-report.html";
  p.String("--out", &out, "the HTML file to write (default job-report.html)");
  if (!p.Parse(args)) return p.exit_code();
  if (uri.empty()) return p.Fail("needs the job's output.uri");
  if (Status st = CheckReportPath(out); !st.ok()) {
    std::fprintf(stderr, "sluice report: %s\n", st.message().c_str());
    return 2;
  }
  auto html = RenderJobReport(uri);
  if (!html.ok()) {
    std::fprintf(stderr, "sluice report: %s\n", html.status().ToString().c_str());
    return html.status().IsUserError() ? 2 : 1;
  }
  if (Status st = WriteReport(out, *html); !st.ok()) {
    std::fprintf(stderr, "sluice report: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("report: %s\n", out.c_str());
  return 0;
}

}  // namespace sluice::cli
