#include "parquet_command.h"

#include <cstdio>
#include <sstream>

#include "arg_parser.h"
#include "sluice/filesystem.h"
#include "sluice/json_lines.h"
#include "sluice/parquet.h"

namespace sluice::cli {
namespace {

constexpr const char* kUsage =
    "usage: sluice parquet <command> ...\n"
    "\n"
    "  inspect FILE                               schema, row groups, sizes, encodings, compression, statistics\n"
    "  cat FILE [--columns a,b] [--limit N]       rows as JSON Lines\n"
    "  copy IN OUT [--compression zstd|snappy|gzip|lz4_raw|brotli|none] [--row-group-rows N]\n"
    "               [--tensor-layout sluice|ray]  read and rewrite\n"
    "\n"
    "FILE, IN and OUT are paths or file:// or s3:// URIs (S3 configured as for `sluice run`).\n";

int Fail(const std::string& command, const Status& st) {
  std::fprintf(stderr, "sluice parquet %s: %s\n", command.c_str(), st.ToString().c_str());
  return 1;
}

/// A path, file:// or s3:// URI, through the same FileSystem (configuration, retries, errors)
/// as the job.
Result<std::unique_ptr<ParquetReader>> OpenReader(const std::string& uri) {
  ASSIGN_OR_RETURN(auto fsys, FileSystemFor(uri));
  ASSIGN_OR_RETURN(auto file, fsys->OpenForRead(uri));
  return ParquetReader::Open(std::move(file));
}

/// Splits the positional FILE arguments from the flags.
std::vector<std::string> TakePositional(std::vector<std::string>& args, size_t n) {
  std::vector<std::string> pos;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      rest.push_back(args[i]);
      if (args[i].find('=') == std::string::npos && i + 1 < args.size() && args[i] != "--help") rest.push_back(args[++i]);
    } else if (pos.size() < n) {
      pos.push_back(args[i]);
    } else {
      rest.push_back(args[i]);
    }
  }
  args = rest;
  return pos;
}

int Inspect(std::vector<std::string> args) {
  auto pos = TakePositional(args, 1);
  ArgParser p("sluice parquet inspect FILE", "Shows a Parquet file's schema, row groups, encodings, compression and statistics.");
  if (!p.Parse(args)) return p.exit_code();
  if (pos.size() != 1) return p.Fail("needs exactly one FILE");
  auto reader = OpenReader(pos[0]);
  if (!reader.ok()) return Fail("inspect", reader.status());
  std::fputs((*reader)->Inspect().c_str(), stdout);
  return 0;
}

int Cat(std::vector<std::string> args) {
  auto pos = TakePositional(args, 1);
  ArgParser p("sluice parquet cat FILE", "Prints a Parquet file's rows as JSON Lines (binary as base64, NaN/Infinity as strings).");
  std::string columns;
  int64_t limit = -1;
  p.String("--columns", &columns, "comma-separated columns to print (default: all)");
  p.Int("--limit", &limit, "stop after this many rows (-1: all)");
  if (!p.Parse(args)) return p.exit_code();
  if (pos.size() != 1) return p.Fail("needs exactly one FILE");
  std::vector<std::string> wanted;
  std::stringstream ss(columns);
  for (std::string c; std::getline(ss, c, ',');) {
    if (!c.empty()) wanted.push_back(c);
  }
  auto reader = OpenReader(pos[0]);
  if (!reader.ok()) return Fail("cat", reader.status());
  int64_t printed = 0;
  std::string out;
  for (int g = 0; g < (*reader)->num_row_groups() && (limit < 0 || printed < limit); ++g) {
    auto batch = (*reader)->ReadRowGroup(g, wanted);
    if (!batch.ok()) return Fail("cat", batch.status());
    for (int64_t r = 0; r < batch->num_rows() && (limit < 0 || printed < limit); ++r, ++printed) {
      AppendJsonRow(*batch, r, &out);
      if (out.size() > (1 << 20)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int Copy(std::vector<std::string> args) {
  auto pos = TakePositional(args, 2);
  ArgParser p("sluice parquet copy IN OUT", "Reads a Parquet file and writes it again with sluice's writer.");
  std::string compression = "zstd";
  int64_t row_group_rows = 0;
  std::string tensor_layout = "sluice";
  p.String("--compression", &compression, "zstd | snappy | gzip | lz4_raw | brotli | none");
  p.String("--tensor-layout", &tensor_layout, "sluice | ray (Ray Data's list layout and ARROW:schema, so Ray reads the tensors)");
  p.Int("--row-group-rows", &row_group_rows, "rows per row group (0: by size, 128 MiB)");
  if (!p.Parse(args)) return p.exit_code();
  if (pos.size() != 2) return p.Fail("needs IN and OUT");
  auto reader = OpenReader(pos[0]);
  if (!reader.ok()) return Fail("copy", reader.status());
  ParquetWriteOptions options;
  options.compression = compression;
  options.row_group_rows = row_group_rows;
  options.tensor_layout = tensor_layout;
  auto writer = ParquetWriter::Open(pos[1], options);
  if (!writer.ok()) return Fail("copy", writer.status());
  // The schema, from an empty batch, so that a file without rows copies too.
  std::vector<std::string> names;
  std::vector<Column> empty;
  for (const auto& c : (*reader)->columns()) {
    if (!c.unsupported.empty()) return Fail("copy", Status::Unimplemented("column '" + c.name + "' is " + c.unsupported));
    names.push_back(c.name);
    empty.push_back(EmptyColumn(c.type));
  }
  auto schema = Batch::Make(names, empty);
  if (!schema.ok()) return Fail("copy", schema.status());
  Status st = (*writer)->Write(*schema);
  for (int g = 0; st.ok() && g < (*reader)->num_row_groups(); ++g) {
    auto batch = (*reader)->ReadRowGroup(g);
    st = batch.ok() ? (*writer)->Write(*batch) : batch.status();
  }
  if (st.ok()) st = (*writer)->Close();
  if (!st.ok()) return Fail("copy", st);
  return 0;
}

}  // namespace

int RunParquet(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "inspect") return Inspect(rest);
  if (args[0] == "cat") return Cat(rest);
  if (args[0] == "copy") return Copy(rest);
  std::fprintf(stderr, "sluice parquet: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
  return 2;
}

}  // namespace sluice::cli
