// libFuzzer target: arbitrary bytes as a Parquet file. Open it, read every row group, inspect it.
// Anything but a clean Status (a crash, a sanitizer report, a leak, an out-of-memory or a
// timeout) is a bug. Built by `make fuzz` (clang, ASan + UBSan); seeded with the interop files.
#include <cstddef>
#include <cstdint>

#include "sluice/parquet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  auto file = MakeBufferFile(Buffer::CopyOf({data, size}), "fuzz.parquet");
  ParquetReadOptions options;  // tight limits: a claimed count is not a reason to use the fuzzer's memory
  options.max_row_group_rows = 1 << 16;
  options.max_chunk_values = 1 << 20;
  auto reader = ParquetReader::Open(file, options);
  if (!reader.ok()) return 0;
  for (int g = 0; g < (*reader)->num_row_groups() && g < 16; ++g) {
    (void)(*reader)->ReadRowGroup(g);
    auto stream = (*reader)->StreamRowGroup(g);
    for (int i = 0; stream.ok() && i < 1 << 16; ++i) {
      auto slice = (*stream)->Next(5);
      if (!slice.ok() || !*slice) break;
    }
  }
  (void)(*reader)->Inspect();
  return 0;
}
